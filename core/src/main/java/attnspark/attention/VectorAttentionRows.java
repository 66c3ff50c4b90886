package attnspark.attention;

import attnspark.kernels.VectorExp;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link AttentionRows#row} with the Vector API: the scores of a whole lane-width of keys per
 * FMA (q broadcast against the transposed keys), exp over lanes, V rows accumulated by lanes.
 * Short rows (a 14-token sentence) are where plain loops lose most: the JIT's vector loops need
 * more iterations than such rows have. Loaded only when the JVM has jdk.incubator.vector.
 */
final class VectorAttentionRows {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private VectorAttentionRows() {}

    static int padded(int n) {
        return (n + L - 1) / L * L;
    }

    static boolean row(HeadOperands head, int qOff, int n, int oOff) {
        // the operands as locals, so the loops below read registers, not the record
        float[] q = head.q(), kT = head.kT(), bias = head.bias(), v = head.v();
        float[] scores = head.scores(), acc = head.acc(), out = head.out();
        int D = head.D(), kStride = head.kStride(), vBase = head.vBase(), Dv = head.Dv();
        float scaling = head.scaling();
        int width = padded(n); // <= kStride; lanes past n carry bias -inf
        FloatVector vmax = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int j0 = 0;
        // four lane-groups of keys at once: each lane's sum over d is the same chain as below,
        // but four independent chains hide the FMA latency on long rows
        for (; j0 + 4 * L <= width; j0 += 4 * L) {
            FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
            for (int d = 0; d < D; d++) {
                FloatVector qd = FloatVector.broadcast(S, q[qOff + d]);
                int k = d * kStride + j0;
                s0 = FloatVector.fromArray(S, kT, k).fma(qd, s0);
                s1 = FloatVector.fromArray(S, kT, k + L).fma(qd, s1);
                s2 = FloatVector.fromArray(S, kT, k + 2 * L).fma(qd, s2);
                s3 = FloatVector.fromArray(S, kT, k + 3 * L).fma(qd, s3);
            }
            s0 = s0.mul(scaling).add(FloatVector.fromArray(S, bias, j0));
            s1 = s1.mul(scaling).add(FloatVector.fromArray(S, bias, j0 + L));
            s2 = s2.mul(scaling).add(FloatVector.fromArray(S, bias, j0 + 2 * L));
            s3 = s3.mul(scaling).add(FloatVector.fromArray(S, bias, j0 + 3 * L));
            s0.intoArray(scores, j0);
            s1.intoArray(scores, j0 + L);
            s2.intoArray(scores, j0 + 2 * L);
            s3.intoArray(scores, j0 + 3 * L);
            vmax = vmax.max(s0).max(s1).max(s2.max(s3));
        }
        for (; j0 < width; j0 += L) {
            FloatVector s = FloatVector.zero(S);
            for (int d = 0; d < D; d++)
                s = FloatVector.fromArray(S, kT, d * kStride + j0).fma(FloatVector.broadcast(S, q[qOff + d]), s);
            s = s.mul(scaling).add(FloatVector.fromArray(S, bias, j0));
            s.intoArray(scores, j0);
            vmax = vmax.max(s);
        }
        float max = vmax.reduceLanes(VectorOperators.MAX);
        if (max == Float.NEGATIVE_INFINITY) return false;
        // x·1 - max by one fma is x - max exactly; exp(-inf) = 0. The sum by expSum's fixed tree:
        // reduceLanes(ADD) may add in another order once C2 has compiled it
        float sum = VectorExp.expSum(scores, 0, width, 1f, -max, scores);
        float inv = 1f / sum;
        if (Dv % L == 0) {
            // accumulators in registers, four keys in flight: a chain through acc[] in memory
            // costs a store-to-load round trip per key, which dominates long rows
            for (int d0 = 0; d0 < Dv; d0 += L) {
                FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
                int j = 0;
                for (; j + 4 <= n; j += 4) {
                    int vOff = (vBase + j) * Dv + d0;
                    a0 = FloatVector.fromArray(S, v, vOff).fma(FloatVector.broadcast(S, scores[j]), a0);
                    a1 = FloatVector.fromArray(S, v, vOff + Dv).fma(FloatVector.broadcast(S, scores[j + 1]), a1);
                    a2 = FloatVector.fromArray(S, v, vOff + 2 * Dv).fma(FloatVector.broadcast(S, scores[j + 2]), a2);
                    a3 = FloatVector.fromArray(S, v, vOff + 3 * Dv).fma(FloatVector.broadcast(S, scores[j + 3]), a3);
                }
                for (; j < n; j++)
                    a0 = FloatVector.fromArray(S, v, (vBase + j) * Dv + d0)
                            .fma(FloatVector.broadcast(S, scores[j]), a0);
                a0.add(a1).add(a2.add(a3)).mul(inv).intoArray(out, oOff + d0);
            }
            return true;
        }
        Arrays.fill(acc, 0, Dv, 0f);
        int dv = Dv - Dv % L;
        for (int j = 0; j < n; j++) {
            float p = scores[j];
            if (p == 0f) continue;
            int vOff = (vBase + j) * Dv;
            FloatVector vp = FloatVector.broadcast(S, p);
            for (int d = 0; d < dv; d += L)
                FloatVector.fromArray(S, v, vOff + d)
                        .fma(vp, FloatVector.fromArray(S, acc, d))
                        .intoArray(acc, d);
            for (int d = dv; d < Dv; d++) acc[d] += p * v[vOff + d];
        }
        for (int d = 0; d < Dv; d++) out[oOff + d] = acc[d] * inv;
        return true;
    }
}
