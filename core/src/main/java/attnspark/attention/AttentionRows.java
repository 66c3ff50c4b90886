package attnspark.attention;

import java.util.Arrays;

/**
 * One query row of attention, the inner step of SDPA's row kernel:
 * {@code out = softmax(scaling · q·Kᵀ + bias) · V} over keys {@code 0..n-1}, where bias holds 0 (or
 * an additive mask value) for visible keys and -inf for hidden ones, in plain loops;
 * {@link VectorAttentionRows} is the same math with the Vector API (SDPA picks one per call).
 */
final class AttentionRows {
    private AttentionRows() {}

    /**
     * @param q      query row at {@code q[qOff .. qOff+D)}
     * @param kT     keys transposed, (D, kStride): key j, dim d at {@code kT[d*kStride + j]}; kStride &gt;= n
     * @param bias   (kStride) per key; entries n..kStride-1 must be -inf
     * @param v      values: key j at {@code v[(vBase + j)*Dv ..]}
     * @param scores scratch (kStride), acc scratch (Dv)
     * @return false when no key is visible (out is left untouched: zeros)
     */
    static boolean row(
            float[] q,
            int qOff,
            int D,
            float scaling,
            float[] kT,
            int kStride,
            int n,
            float[] bias,
            float[] v,
            int vBase,
            int Dv,
            float[] scores,
            float[] acc,
            float[] out,
            int oOff) {
        Arrays.fill(scores, 0, n, 0f);
        for (int d = 0; d < D; d++) {
            float qd = q[qOff + d] * scaling;
            int r = d * kStride;
            for (int j = 0; j < n; j++) scores[j] += qd * kT[r + j];
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            scores[j] += bias[j];
            max = Math.max(max, scores[j]);
        }
        if (max == Float.NEGATIVE_INFINITY) return false;
        Arrays.fill(acc, 0, Dv, 0f);
        float sum = 0f;
        for (int j = 0; j < n; j++) {
            if (scores[j] == Float.NEGATIVE_INFINITY) continue;
            float p = (float) Math.exp(scores[j] - max);
            sum += p;
            int vOff = (vBase + j) * Dv;
            for (int d = 0; d < Dv; d++) acc[d] += p * v[vOff + d];
        }
        float inv = 1f / sum;
        for (int d = 0; d < Dv; d++) out[oOff + d] = acc[d] * inv;
        return true;
    }
}
