package attnspark.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** {@link SwiGlu#row} a lane-width at a time ({@link VectorExp}: the same bits in every JIT tier); loaded only with jdk.incubator.vector. */
final class VectorSwiGlu {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VectorSwiGlu() {}

    static void row(float[] gu, int src, float[] out, int dst, int I) {
        int i = 0;
        for (int n = S.loopBound(I); i < n; i += S.length()) {
            FloatVector g = FloatVector.fromArray(S, gu, src + i);
            FloatVector u = FloatVector.fromArray(S, gu, src + I + i);
            g.div(VectorExp.exp(g.neg()).add(1f)).mul(u).intoArray(out, dst + i);
        }
        if (i < I) SwiGlu.row(gu, src + i, out, dst + i, I - i, I);
    }
}
