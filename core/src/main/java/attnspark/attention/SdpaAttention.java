package attnspark.attention;

import attnspark.tensor.FloatTensor;

import java.util.Map;

/**
 * HF's {@code sdpa_attention_forward} over a fused scale-mask-softmax-matmul: one pass per
 * query row, scores in a reused row buffer, GQA by indexing the shared kv head (no repeat).
 * {@code is_causal = Sq > 1 && mask == null && (kwarg is_causal, else module.isCausal())},
 * top-left aligned like torch. A query row that may attend to nothing gives zeros, not NaN.
 */
public final class SdpaAttention implements AttentionFunction {
    @Override
    public AttentionOutput apply(AttentionModule module, FloatTensor query, FloatTensor key, FloatTensor value,
                                 Object mask, Map<String, Object> kwargs) {
        int B = query.dim(0), H = query.dim(1), Sq = query.dim(2), D = query.dim(3);
        int Hkv = key.dim(1), Skv = key.dim(2), Dv = value.dim(3);
        if (H % Hkv != 0) {
            throw new IllegalArgumentException("query heads (" + H + ") must be a multiple of key/value heads (" + Hkv + ")");
        }
        int groups = H / Hkv;
        float scaling = Attention.scaling(module, kwargs);
        boolean causal = Sq > 1 && mask == null && Attention.isCausal(module, kwargs);
        BooleanMask boolMask = mask instanceof BooleanMask m ? m : null;
        FloatTensor addMask = boolMask == null ? Attention.additiveMask(mask) : null;

        float[] q = query.data, k = key.data, v = value.data;
        float[] out = new float[B * Sq * H * Dv];                    // (B, Sq, H, Dv)
        float[] scores = new float[Skv];
        float[] acc = new float[Dv];
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < H; h++) {
                int kvBase = (b * Hkv + h / groups) * Skv;
                for (int i = 0; i < Sq; i++) {
                    int qOff = ((b * H + h) * Sq + i) * D;
                    int end = causal ? Math.min(i + 1, Skv) : Skv;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < end; j++) {
                        float s;
                        if (boolMask != null && !boolMask.get(b, i, j)) {
                            s = Float.NEGATIVE_INFINITY;
                        } else {
                            int kOff = (kvBase + j) * D;
                            float dot = 0f;
                            for (int d = 0; d < D; d++) dot += q[qOff + d] * k[kOff + d];
                            s = dot * scaling;
                            if (addMask != null) s += addMask.data[(b * Sq + i) * addMask.dim(3) + j];
                        }
                        scores[j] = s;
                        if (s > max) max = s;
                    }
                    int oOff = ((b * Sq + i) * H + h) * Dv;
                    if (max == Float.NEGATIVE_INFINITY) continue;    // nothing visible: zeros
                    java.util.Arrays.fill(acc, 0f);
                    float sum = 0f;
                    for (int j = 0; j < end; j++) {
                        if (scores[j] == Float.NEGATIVE_INFINITY) continue;
                        float p = (float) Math.exp(scores[j] - max);
                        sum += p;
                        int vOff = (kvBase + j) * Dv;
                        for (int d = 0; d < Dv; d++) acc[d] += p * v[vOff + d];
                    }
                    float inv = 1f / sum;
                    for (int d = 0; d < Dv; d++) out[oOff + d] = acc[d] * inv;
                }
            }
        }
        return new AttentionOutput(new FloatTensor(out, B, Sq, H, Dv), null);
    }
}
