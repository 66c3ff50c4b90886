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
     * Query row {@code q[qOff .. qOff+D)} of {@code head} against its first {@code n} keys, into
     * {@code out[oOff .. oOff+Dv)}.
     *
     * @return false when no key is visible (out is left untouched: zeros)
     */
    static boolean row(HeadOperands head, int qOff, int n, int oOff) {
        // the operands as locals, so the loops below read registers, not the record
        float[] q = head.q(), kT = head.kT(), bias = head.bias(), v = head.v();
        float[] scores = head.scores(), acc = head.acc(), out = head.out();
        int D = head.D(), kStride = head.kStride(), vBase = head.vBase(), Dv = head.Dv();
        float scaling = head.scaling();
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
