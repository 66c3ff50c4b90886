package attnspark.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** {@link SwiGlu#row} a lane-width at a time ({@link VectorExp#expSum}: the same bits in every JIT tier); loaded only with jdk.incubator.vector. */
final class VectorSwiGlu {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VectorSwiGlu() {}

    static void row(float[] gu, int src, float[] out, int dst, int I) {
        int L = S.length(), n = S.loopBound(I);
        // e^-g into out by expSum (arrays in and out, so no vector crosses a call C2 may not inline),
        // g first clamped to -88.7 where e^-g would pass expSum's range; out (not overlapping gu) holds
        // e^-g between the passes
        for (int i = 0; i < n; i += L) {
            FloatVector g = FloatVector.fromArray(S, gu, src + i);
            g.blend(-VectorExp.MAX_X, g.lt(-VectorExp.MAX_X)).intoArray(out, dst + i);
        }
        VectorExp.expSum(out, dst, dst + n, -1f, 0f, out); // g·-1 + 0 = -g (-0 for +0 aside: e^±0 = 1 alike)
        for (int i = 0; i < n; i += L) {
            FloatVector g = FloatVector.fromArray(S, gu, src + i);
            FloatVector u = FloatVector.fromArray(S, gu, src + I + i);
            g.div(FloatVector.fromArray(S, out, dst + i).add(1f)).mul(u).intoArray(out, dst + i);
        }
        if (n < I) SwiGlu.row(gu, src + n, out, dst + n, I - n, I);
    }
}
