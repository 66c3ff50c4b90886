package attnspark.models.tiny;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Textbook Llama-family forward pass (HF modeling_llama / mistral / qwen2 math) in plain
 * double loops, one token and one head at a time, for one unpadded sequence. Written from
 * the HF formulas, independently of attnspark's main code:
 * <pre>
 *   h = embed[ids]
 *   per layer: a = RMSNorm(h); q,k,v = a·Wᵀ (+b); RoPE(q,k) by rotate_half; GQA: q head j reads kv head j / (H/KV)
 *              softmax(q·k/√Dh + mask)·v; h += o_proj(·); h += down(silu(gate(RMSNorm(h))) * up(RMSNorm(h)))
 *   out = RMSNorm(h); logits = out · (lm_head or embed)ᵀ
 * </pre>
 */
final class NaiveLlama {
    final int V, D, I, L, H, KV, Dh;
    final double eps;
    final boolean tie, causal;
    final Integer window, chunk;
    final String[] layerTypes;
    final double[] invFreq;
    private final Map<String, double[]> w;

    @SuppressWarnings("unchecked")
    NaiveLlama(Map<String, Object> c, Map<String, double[]> weights) {
        this.w = weights;
        V = num(c, "vocab_size", null).intValue();
        D = num(c, "hidden_size", null).intValue();
        I = num(c, "intermediate_size", null).intValue();
        L = num(c, "num_hidden_layers", null).intValue();
        H = num(c, "num_attention_heads", null).intValue();
        KV = num(c, "num_key_value_heads", H).intValue();
        Dh = num(c, "head_dim", D / H).intValue();
        eps = num(c, "rms_norm_eps", 1e-6).doubleValue();
        tie = Boolean.TRUE.equals(c.get("tie_word_embeddings"));
        causal = !Boolean.FALSE.equals(c.get("is_causal"));
        // Qwen2Config: sliding_window = sliding_window if use_sliding_window (default False) else None;
        // default layer_types: sliding_attention for i >= max_window_layers (default 28)
        boolean qwen2 = "qwen2".equals(c.get("model_type"));
        Object use = c.get("use_sliding_window");
        boolean useSliding = use == null ? !qwen2 : (Boolean) use;
        window = c.get("sliding_window") != null && useSliding ? ((Number) c.get("sliding_window")).intValue() : null;
        int maxWindowLayers = num(c, "max_window_layers", 28).intValue();
        chunk = c.get("attention_chunk_size") != null ? ((Number) c.get("attention_chunk_size")).intValue() : null;
        layerTypes = new String[L];
        List<Object> given = (List<Object>) c.get("layer_types");
        for (int l = 0; l < L; l++) {
            layerTypes[l] = given != null
                    ? (String) given.get(l)
                    : qwen2
                            ? (window != null && l >= maxWindowLayers ? "sliding_attention" : "full_attention")
                            : window != null
                                    ? "sliding_attention"
                                    : chunk != null ? "chunked_attention" : "full_attention";
        }
        invFreq = invFreq(Dh, num(c, "rope_theta", 10000.0).doubleValue(), (Map<String, Object>) c.get("rope_scaling"));
    }

    private static Number num(Map<String, Object> c, String k, Number dflt) {
        Object v = c.get(k);
        if (v == null) {
            if (dflt == null) throw new IllegalArgumentException("config needs " + k);
            return dflt;
        }
        return (Number) v;
    }

    /** HF rope init functions: default, linear, llama3 (_compute_llama3_parameters). */
    static double[] invFreq(int dim, double theta, Map<String, Object> scaling) {
        double[] f = new double[dim / 2];
        for (int i = 0; i < dim / 2; i++) f[i] = 1.0 / Math.pow(theta, (double) (2 * i) / dim);
        String type = scaling == null
                ? "default"
                : (String) scaling.getOrDefault("rope_type", scaling.getOrDefault("type", "default"));
        if (type.equals("linear")) {
            double factor = ((Number) scaling.get("factor")).doubleValue();
            for (int i = 0; i < f.length; i++) f[i] = f[i] / factor;
        } else if (type.equals("llama3")) {
            double factor = ((Number) scaling.get("factor")).doubleValue();
            double lowFreqFactor = ((Number) scaling.get("low_freq_factor")).doubleValue();
            double highFreqFactor = ((Number) scaling.get("high_freq_factor")).doubleValue();
            double oldContextLen = ((Number) scaling.get("original_max_position_embeddings")).doubleValue();
            double lowFreqWavelen = oldContextLen / lowFreqFactor;
            double highFreqWavelen = oldContextLen / highFreqFactor;
            for (int i = 0; i < f.length; i++) {
                double wavelen = 2 * Math.PI / f[i];
                // inv_freq_llama = where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
                double llama = wavelen > lowFreqWavelen ? f[i] / factor : f[i];
                double smoothFactor = (oldContextLen / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                double smoothed = (1 - smoothFactor) * llama / factor + smoothFactor * llama;
                boolean isMedium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
                f[i] = isMedium ? smoothed : llama;
            }
        } else if (!type.equals("default")) {
            throw new IllegalArgumentException("naive reference has no rope type " + type);
        }
        return f;
    }

    static double[] rmsNorm(double[] x, double[] weight, double eps) {
        double ss = 0;
        for (double v : x) ss += v * v;
        double inv = 1 / Math.sqrt(ss / x.length + eps);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = weight[i] * (x[i] * inv);
        return out;
    }

    /** y = W x + b for an nn.Linear weight (out, in); b may be null. */
    static double[] linear(double[] W, double[] b, double[] x, int out) {
        int in = x.length;
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double s = b == null ? 0 : b[o];
            for (int i = 0; i < in; i++) s += W[o * in + i] * x[i];
            y[o] = s;
        }
        return y;
    }

    /** q_embed = q·cos + rotate_half(q)·sin with emb = cat(freqs, freqs), rotate_half(x) = cat(-x2, x1). */
    static double[] rope(double[] x, int pos, double[] invFreq) {
        int d = x.length, half = d / 2;
        double[] cos = new double[d], sin = new double[d], rot = new double[d];
        for (int i = 0; i < d; i++) {
            double angle = pos * invFreq[i % half];
            cos[i] = Math.cos(angle);
            sin[i] = Math.sin(angle);
        }
        for (int i = 0; i < half; i++) {
            rot[i] = -x[i + half];
            rot[i + half] = x[i];
        }
        double[] out = new double[d];
        for (int i = 0; i < d; i++) out[i] = x[i] * cos[i] + rot[i] * sin[i];
        return out;
    }

    boolean allowed(String type, int q, int k, boolean isCausal) {
        boolean ok = !isCausal || k <= q;
        if (type.equals("sliding_attention")) {
            // causal: HF sliding_window_overlay, kv > q - W (W keys including itself);
            // bidirectional: HF sliding_window_bidirectional_overlay, |q - kv| <= W (inclusive distance)
            ok &= isCausal ? k > q - window : Math.abs(q - k) <= window;
        } else if (type.equals("chunked_attention") && isCausal) {
            ok &= Math.floorDiv(k, chunk) == Math.floorDiv(q, chunk);
        }
        return ok;
    }

    private double[] t(String name) {
        return w.get(name);
    }

    /** Final-normed hidden states (S, D) of one sequence. */
    double[][] hidden(int[] ids) {
        return hidden(ids, causal);
    }

    double[][] hidden(int[] ids, boolean isCausal) {
        int S = ids.length;
        double[][] h = new double[S][D];
        double[] emb = t("model.embed_tokens.weight");
        for (int s = 0; s < S; s++) for (int d = 0; d < D; d++) h[s][d] = emb[ids[s] * D + d];
        for (int l = 0; l < L; l++) {
            String p = "model.layers." + l + ".";
            double[][][] q = new double[S][H][], k = new double[S][KV][], v = new double[S][KV][];
            for (int s = 0; s < S; s++) {
                double[] a = rmsNorm(h[s], t(p + "input_layernorm.weight"), eps);
                double[] qa = linear(t(p + "self_attn.q_proj.weight"), t(p + "self_attn.q_proj.bias"), a, H * Dh);
                double[] ka = linear(t(p + "self_attn.k_proj.weight"), t(p + "self_attn.k_proj.bias"), a, KV * Dh);
                double[] va = linear(t(p + "self_attn.v_proj.weight"), t(p + "self_attn.v_proj.bias"), a, KV * Dh);
                for (int j = 0; j < H; j++) q[s][j] = rope(Arrays.copyOfRange(qa, j * Dh, (j + 1) * Dh), s, invFreq);
                for (int j = 0; j < KV; j++) {
                    k[s][j] = rope(Arrays.copyOfRange(ka, j * Dh, (j + 1) * Dh), s, invFreq);
                    v[s][j] = Arrays.copyOfRange(va, j * Dh, (j + 1) * Dh);
                }
            }
            double scale = 1 / Math.sqrt(Dh);
            int groups = H / KV;
            double[][] attn = new double[S][H * Dh];
            for (int s = 0; s < S; s++) {
                for (int j = 0; j < H; j++) {
                    int kvh = j / groups; // repeat_kv: kv head kvh serves q heads kvh*groups .. +groups-1
                    double[] scores = new double[S];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int u = 0; u < S; u++) {
                        if (!allowed(layerTypes[l], s, u, isCausal)) {
                            scores[u] = Double.NEGATIVE_INFINITY;
                            continue;
                        }
                        double dot = 0;
                        for (int d = 0; d < Dh; d++) dot += q[s][j][d] * k[u][kvh][d];
                        scores[u] = dot * scale;
                        max = Math.max(max, scores[u]);
                    }
                    double sum = 0;
                    for (int u = 0; u < S; u++) {
                        scores[u] = scores[u] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(scores[u] - max);
                        sum += scores[u];
                    }
                    for (int u = 0; u < S; u++) {
                        double pr = scores[u] / sum;
                        for (int d = 0; d < Dh; d++) attn[s][j * Dh + d] += pr * v[u][kvh][d];
                    }
                }
            }
            for (int s = 0; s < S; s++) {
                double[] o = linear(t(p + "self_attn.o_proj.weight"), t(p + "self_attn.o_proj.bias"), attn[s], D);
                for (int d = 0; d < D; d++) h[s][d] += o[d];
                double[] a = rmsNorm(h[s], t(p + "post_attention_layernorm.weight"), eps);
                double[] g = linear(t(p + "mlp.gate_proj.weight"), null, a, I);
                double[] u = linear(t(p + "mlp.up_proj.weight"), null, a, I);
                double[] m = new double[I];
                for (int i = 0; i < I; i++) m[i] = g[i] / (1 + Math.exp(-g[i])) * u[i]; // silu(gate) * up
                double[] y = linear(t(p + "mlp.down_proj.weight"), null, m, D);
                for (int d = 0; d < D; d++) h[s][d] += y[d];
            }
        }
        double[][] out = new double[S][];
        for (int s = 0; s < S; s++) out[s] = rmsNorm(h[s], t("model.norm.weight"), eps);
        return out;
    }

    /** (S, V) logits from final hidden states; the head is the embedding matrix when tied. */
    double[][] logits(double[][] hidden) {
        double[] head = tie || t("lm_head.weight") == null ? t("model.embed_tokens.weight") : t("lm_head.weight");
        double[][] out = new double[hidden.length][];
        for (int s = 0; s < hidden.length; s++) out[s] = linear(head, null, hidden[s], V);
        return out;
    }
}
