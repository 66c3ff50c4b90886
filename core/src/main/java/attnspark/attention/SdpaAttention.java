package attnspark.attention;

import attnspark.kernels.Parallel;
import attnspark.tensor.FloatTensor;

import java.util.Arrays;
import java.util.Map;

/**
 * HF's {@code sdpa_attention_forward} over a fused scale-mask-softmax-matmul: one pass per
 * query row, GQA by indexing the shared kv head (no repeat), heads in parallel.
 * {@code is_causal = Sq > 1 && mask == null && (kwarg is_causal, else module.isCausal())},
 * top-left aligned like torch. A query row that may attend to nothing gives zeros, not NaN.
 * K is transposed per head so both products are axpy loops the JIT vectorises.
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
        float[] out = new float[B * Sq * H * Dv];                    // (B, Sq, H, Dv)
        Parallel.forRange(B * H, 1, (from, to) -> {
            float[] kT = new float[D * Skv];                         // (D, Skv) of one kv head
            float[] scores = new float[Skv];
            float[] acc = new float[Dv];
            for (int bh = from; bh < to; bh++) {
                int b = bh / H, h = bh % H;
                int kvBase = (b * Hkv + h / groups) * Skv;
                for (int j = 0; j < Skv; j++) for (int d = 0; d < D; d++) kT[d * Skv + j] = key.data[(kvBase + j) * D + d];
                for (int i = 0; i < Sq; i++) {
                    int qOff = ((b * H + h) * Sq + i) * D;
                    int end = causal ? Math.min(i + 1, Skv) : Skv;
                    Arrays.fill(scores, 0, end, 0f);
                    for (int d = 0; d < D; d++) {
                        float qd = query.data[qOff + d] * scaling;
                        int row = d * Skv;
                        for (int j = 0; j < end; j++) scores[j] += qd * kT[row + j];
                    }
                    if (addMask != null) {
                        int mOff = (b * Sq + i) * addMask.dim(3);
                        for (int j = 0; j < end; j++) scores[j] += addMask.data[mOff + j];
                    }
                    if (boolMask != null) {
                        for (int j = 0; j < end; j++) if (!boolMask.get(b, i, j)) scores[j] = Float.NEGATIVE_INFINITY;
                    }
                    float max = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < end; j++) max = Math.max(max, scores[j]);
                    if (max == Float.NEGATIVE_INFINITY) continue;    // nothing visible: zeros
                    Arrays.fill(acc, 0f);
                    float sum = 0f;
                    for (int j = 0; j < end; j++) {
                        if (scores[j] == Float.NEGATIVE_INFINITY) continue;
                        float p = (float) Math.exp(scores[j] - max);
                        sum += p;
                        int vOff = (kvBase + j) * Dv;
                        for (int d = 0; d < Dv; d++) acc[d] += p * value.data[vOff + d];
                    }
                    float inv = 1f / sum;
                    int oOff = ((b * Sq + i) * H + h) * Dv;
                    for (int d = 0; d < Dv; d++) out[oOff + d] = acc[d] * inv;
                }
            }
        });
        return new AttentionOutput(new FloatTensor(out, B, Sq, H, Dv), null);
    }
}
