package attnspark.models.tiny;

import java.util.Map;

/**
 * Textbook BERT / RoBERTa encoder (HF modeling_bert / modeling_roberta math) in plain double
 * loops for one unpadded sequence, written independently of attnspark's main code:
 * <pre>
 *   x = LayerNorm(word[id] + position[pos] + token_type[tt])     pos = s, or padding_idx + 1 + s for RoBERTa
 *   per layer (post-LN): x = LayerNorm(x + dense(softmax(q·k/√Dh)·v)); x = LayerNorm(x + out(gelu_erf(inter(x))))
 * </pre>
 */
final class NaiveBert {
    final int V, D, I, L, H, Dh, P;
    final double eps;
    final int positionOffset;
    final String act;
    private final Map<String, double[]> w;
    private final String prefix;

    NaiveBert(Map<String, Object> c, Map<String, double[]> weights, String prefix) {
        this.w = weights;
        this.prefix = prefix;
        V = ((Number) c.get("vocab_size")).intValue();
        D = ((Number) c.get("hidden_size")).intValue();
        I = ((Number) c.get("intermediate_size")).intValue();
        L = ((Number) c.get("num_hidden_layers")).intValue();
        H = ((Number) c.get("num_attention_heads")).intValue();
        Dh = D / H;
        P = ((Number) c.getOrDefault("max_position_embeddings", 512)).intValue();
        eps = ((Number) c.getOrDefault("layer_norm_eps", 1e-12)).doubleValue();
        act = (String) c.getOrDefault("hidden_act", "gelu");
        // RobertaEmbeddings.create_position_ids_from_input_ids: cumsum(ids != pad) * mask + padding_idx
        positionOffset =
                "roberta".equals(c.get("model_type")) ? ((Number) c.getOrDefault("pad_token_id", 1)).intValue() + 1 : 0;
    }

    static double[] layerNorm(double[] x, double[] g, double[] b, double eps) {
        int n = x.length;
        double mean = 0;
        for (double v : x) mean += v;
        mean /= n;
        double var = 0;
        for (double v : x) var += (v - mean) * (v - mean);
        var /= n; // biased variance, as torch.nn.LayerNorm
        double[] out = new double[n];
        for (int i = 0; i < n; i++) out[i] = (x[i] - mean) / Math.sqrt(var + eps) * g[i] + b[i];
        return out;
    }

    /** GELU, exact: 0.5·x·(1 + erf(x/√2)), with a double-precision erf. */
    static double gelu(double x) {
        return 0.5 * x * (1 + Erf.erf(x / Math.sqrt(2)));
    }

    private double[] t(String n) {
        double[] v = w.get(prefix + n);
        if (v == null) throw new IllegalArgumentException("no " + prefix + n);
        return v;
    }

    /** Last hidden state (S, D) of one sequence; tokenTypes may be null (all zero). */
    double[][] hidden(int[] ids, int[] tokenTypes) {
        int S = ids.length;
        double[][] x = new double[S][];
        double[] we = t("embeddings.word_embeddings.weight"),
                pe = t("embeddings.position_embeddings.weight"),
                te = t("embeddings.token_type_embeddings.weight");
        for (int s = 0; s < S; s++) {
            int pos = s + positionOffset, tt = tokenTypes == null ? 0 : tokenTypes[s];
            double[] e = new double[D];
            for (int d = 0; d < D; d++) e[d] = we[ids[s] * D + d] + pe[pos * D + d] + te[tt * D + d];
            x[s] = layerNorm(e, t("embeddings.LayerNorm.weight"), t("embeddings.LayerNorm.bias"), eps);
        }
        for (int l = 0; l < L; l++) {
            String p = "encoder.layer." + l + ".";
            double[][] q = new double[S][], k = new double[S][], v = new double[S][];
            for (int s = 0; s < S; s++) {
                q[s] = NaiveLlama.linear(
                        t(p + "attention.self.query.weight"), t(p + "attention.self.query.bias"), x[s], D);
                k[s] = NaiveLlama.linear(t(p + "attention.self.key.weight"), t(p + "attention.self.key.bias"), x[s], D);
                v[s] = NaiveLlama.linear(
                        t(p + "attention.self.value.weight"), t(p + "attention.self.value.bias"), x[s], D);
            }
            double[][] ctx = new double[S][D];
            for (int s = 0; s < S; s++) {
                for (int h = 0; h < H; h++) {
                    double[] sc = new double[S];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int u = 0; u < S; u++) {
                        double dot = 0;
                        for (int d = 0; d < Dh; d++) dot += q[s][h * Dh + d] * k[u][h * Dh + d];
                        sc[u] = dot / Math.sqrt(Dh);
                        max = Math.max(max, sc[u]);
                    }
                    double sum = 0;
                    for (int u = 0; u < S; u++) sum += sc[u] = Math.exp(sc[u] - max);
                    for (int u = 0; u < S; u++)
                        for (int d = 0; d < Dh; d++) ctx[s][h * Dh + d] += sc[u] / sum * v[u][h * Dh + d];
                }
            }
            for (int s = 0; s < S; s++) {
                double[] a = NaiveLlama.linear(
                        t(p + "attention.output.dense.weight"), t(p + "attention.output.dense.bias"), ctx[s], D);
                for (int d = 0; d < D; d++) a[d] += x[s][d];
                double[] y = layerNorm(
                        a, t(p + "attention.output.LayerNorm.weight"), t(p + "attention.output.LayerNorm.bias"), eps);
                double[] m =
                        NaiveLlama.linear(t(p + "intermediate.dense.weight"), t(p + "intermediate.dense.bias"), y, I);
                for (int i = 0; i < I; i++) m[i] = activation(m[i]);
                double[] o = NaiveLlama.linear(t(p + "output.dense.weight"), t(p + "output.dense.bias"), m, D);
                for (int d = 0; d < D; d++) o[d] += y[d];
                x[s] = layerNorm(o, t(p + "output.LayerNorm.weight"), t(p + "output.LayerNorm.bias"), eps);
            }
        }
        return x;
    }

    private double activation(double v) {
        return switch (act) {
            case "gelu" -> gelu(v);
            case "gelu_new", "gelu_pytorch_tanh" ->
                0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
            case "relu" -> Math.max(0, v);
            default -> throw new IllegalArgumentException(act);
        };
    }
}
