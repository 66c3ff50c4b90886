package attnspark.cache;

import attnspark.attention.AttentionFunction;
import attnspark.attention.AttentionMask;
import attnspark.attention.AttentionModule;
import attnspark.attention.dispatch.AttentionInterface;
import attnspark.models.RotaryEmbedding;
import attnspark.models.llama.CausalLmScorer;
import attnspark.models.llama.WindowedScorer;
import attnspark.tensor.FloatTensor;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

/**
 * A tiny random decoder for the windowed-scoring tests: embeddings, {@code layers} blocks of
 * (RoPE GQA attention + tanh MLP) with residuals, a vocabulary head. Positions are explicit and
 * kwargs reach the attention function, so it runs plain (sdpa/eager) and paged backends.
 */
final class TinyLm implements WindowedScorer.StepLm {
    static final int V = 17, DM = 16, H = 4, HKV = 2, DH = 4;

    final int layers;
    final String attn;
    private final float[] emb, head;
    private final float[][] wq, wk, wv, wo, w1, w2;
    private final RotaryEmbedding rope = new RotaryEmbedding(DH, 10000.0, null);

    TinyLm(int layers, String attn, long seed) {
        this.layers = layers;
        this.attn = attn;
        Random r = new Random(seed);
        emb = randn(r, V * DM, 1.0);
        head = randn(r, DM * V, 2.0 / Math.sqrt(DM));
        wq = new float[layers][];
        wk = new float[layers][];
        wv = new float[layers][];
        wo = new float[layers][];
        w1 = new float[layers][];
        w2 = new float[layers][];
        for (int l = 0; l < layers; l++) {
            wq[l] = randn(r, DM * H * DH, 2.0 / Math.sqrt(DM));
            wk[l] = randn(r, DM * HKV * DH, 2.0 / Math.sqrt(DM));
            wv[l] = randn(r, DM * HKV * DH, 1.0 / Math.sqrt(DM));
            wo[l] = randn(r, H * DH * DM, 1.0 / Math.sqrt(H * DH));
            w1[l] = randn(r, DM * DM, 1.0 / Math.sqrt(DM));
            w2[l] = randn(r, DM * DM, 1.0 / Math.sqrt(DM));
        }
    }

    static float[] randn(Random r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * scale);
        return a;
    }

    static float[] matmul(float[] x, int n, int in, float[] w, int out) {
        float[] y = new float[n * out];
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < in; i++) {
                float xi = x[t * in + i];
                for (int o = 0; o < out; o++) y[t * out + o] += xi * w[i * out + o];
            }
        }
        return y;
    }

    /** (n, heads*DH) rows -> (1, heads, n, DH). */
    static FloatTensor heads(float[] x, int n, int heads) {
        float[] out = new float[heads * n * DH];
        for (int t = 0; t < n; t++)
            for (int h = 0; h < heads; h++) System.arraycopy(x, (t * heads + h) * DH, out, (h * n + t) * DH, DH);
        return new FloatTensor(out, 1, heads, n, DH);
    }

    /** Log-probs of targets; {@code mask} goes to the attention function as is (null for sdpa/paged). */
    float[] run(int[] tokens, int[] positions, int[] targets, Map<String, Object> kwargs, AttentionMask mask) {
        int n = tokens.length;
        AttentionFunction fn = AttentionInterface.ALL.get(attn);
        int maxPos = Arrays.stream(positions).max().orElse(0);
        RotaryEmbedding.Table table = rope.table(maxPos);
        int[][] pos = {positions};
        float[] x = new float[n * DM];
        for (int t = 0; t < n; t++) System.arraycopy(emb, tokens[t] * DM, x, t * DM, DM);
        for (int l = 0; l < layers; l++) {
            FloatTensor q = heads(matmul(x, n, DM, wq[l], H * DH), n, H);
            FloatTensor k = heads(matmul(x, n, DM, wk[l], HKV * DH), n, HKV);
            FloatTensor v = heads(matmul(x, n, DM, wv[l], HKV * DH), n, HKV);
            RotaryEmbedding.apply(q, pos, table);
            RotaryEmbedding.apply(k, pos, table);
            AttentionModule m = AttentionModule.of(true, l, H / HKV, (float) (1 / Math.sqrt(DH)));
            Map<String, Object> kw = new HashMap<>(kwargs);
            float[] a = fn.apply(m, q, k, v, mask, kw).output().data; // (1, n, H, DH) = (n, H*DH)
            float[] o = matmul(a, n, H * DH, wo[l], DM);
            for (int i = 0; i < x.length; i++) x[i] += o[i];
            float[] hdn = matmul(x, n, DM, w1[l], DM);
            for (int i = 0; i < hdn.length; i++) hdn[i] = (float) Math.tanh(hdn[i]);
            float[] y = matmul(hdn, n, DM, w2[l], DM);
            for (int i = 0; i < x.length; i++) x[i] += y[i];
        }
        float[] logits = matmul(x, n, DM, head, V);
        float[] out = new float[n];
        Arrays.fill(out, Float.NaN);
        for (int t = 0; t < n; t++)
            if (targets[t] >= 0) out[t] = CausalLmScorer.logSoftmaxAt(logits, t * V, V, targets[t]);
        return out;
    }

    @Override
    public float[] logProbsOfNext(int[] tokens, int[] positions, int[] targets, Map<String, Object> attnKwargs) {
        return run(tokens, positions, targets, attnKwargs, null);
    }
}
