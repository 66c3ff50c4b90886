package attnspark.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link LayerNorm#row} a lane-width at a time. The scalar form's sums run as one dependent chain
 * of double adds (two per element, ~6% of an all-MiniLM-L6-v2 forward); here they are float
 * lanes, added over the row in order and then across lanes by {@link VectorExp#HALVES}' fixed tree,
 * so the bits are the same in every JIT tier. Float lanes alone
 * would lose the mean of a row far from zero (values near 1000: a sum's rounding is an ulp of the
 * sum), so the sum gives only a shift m0 and the second pass sums the shifted values d = x - m0
 * (small, so exactly enough) and their squares: mean = m0 + Σd/n, var = Σd²/n - (Σd/n)².
 * Loaded only with jdk.incubator.vector.
 */
final class VectorLayerNorm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private VectorLayerNorm() {}

    static void row(float[] x, int o, float[] residual, int ro, int dim, float[] w, float[] b, float eps) {
        int bound = S.loopBound(dim), i = bound;
        // a loop per case, each summing into its own float: a vector that is x or x + residual by a
        // branch inside the loop is one C2 may leave boxed (see VectorPackedAttention.maxOf)
        float sum = residual != null ? addAndSum(x, o, residual, ro, bound) : sum(x, o, bound);
        for (; i < dim; i++) {
            if (residual != null) x[o + i] += residual[ro + i];
            sum += x[o + i];
        }
        float m0 = sum / dim;
        FloatVector shift = FloatVector.broadcast(S, m0);
        FloatVector s1 = FloatVector.zero(S), s2 = s1;
        for (i = 0; i < bound; i += L) {
            FloatVector d = FloatVector.fromArray(S, x, o + i).sub(shift);
            s1 = s1.add(d);
            s2 = d.fma(d, s2);
        }
        for (VectorShuffle<Float> h : VectorExp.HALVES) {
            s1 = s1.add(s1.rearrange(h));
            s2 = s2.add(s2.rearrange(h));
        }
        double d1 = s1.lane(0), d2 = s2.lane(0);
        for (; i < dim; i++) {
            double d = x[o + i] - m0;
            d1 += d;
            d2 += d * d;
        }
        double dm = d1 / dim;
        float mean = (float) (m0 + dm);
        float inv = (float) (1.0 / Math.sqrt(Math.max(0.0, d2 / dim - dm * dm) + eps));
        FloatVector m = FloatVector.broadcast(S, mean), vinv = FloatVector.broadcast(S, inv);
        for (i = 0; i < bound; i += L) {
            FloatVector.fromArray(S, x, o + i)
                    .sub(m)
                    .mul(vinv)
                    .fma(FloatVector.fromArray(S, w, i), FloatVector.fromArray(S, b, i))
                    .intoArray(x, o + i);
        }
        for (; i < dim; i++) x[o + i] = Math.fma((x[o + i] - mean) * inv, w[i], b[i]);
    }

    /** x[o..o+bound) += residual[ro..ro+bound), and the sum of the new x: lane-wise adds, then {@link VectorExp#HALVES}' tree. */
    private static float addAndSum(float[] x, int o, float[] residual, int ro, int bound) {
        FloatVector acc = FloatVector.zero(S);
        for (int i = 0; i < bound; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, o + i).add(FloatVector.fromArray(S, residual, ro + i));
            v.intoArray(x, o + i);
            acc = acc.add(v);
        }
        for (VectorShuffle<Float> h : VectorExp.HALVES) acc = acc.add(acc.rearrange(h));
        return acc.lane(0);
    }

    /** The sum of x[o..o+bound): the same adds as {@link #addAndSum} without the residual. */
    private static float sum(float[] x, int o, int bound) {
        FloatVector acc = FloatVector.zero(S);
        for (int i = 0; i < bound; i += L) acc = acc.add(FloatVector.fromArray(S, x, o + i));
        for (VectorShuffle<Float> h : VectorExp.HALVES) acc = acc.add(acc.rearrange(h));
        return acc.lane(0);
    }
}
