package attnspark.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** {@link LogSoftmax#at} a lane-width at a time ({@link VectorExp}, lanes summed by a fixed tree); loaded only with jdk.incubator.vector. */
final class VectorLogSoftmax {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VectorLogSoftmax() {}

    static float at(float[] logits, int off, int V, int target) {
        int L = S.length(), bound = S.loopBound(V);
        FloatVector vmax = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < bound; i += L) vmax = vmax.max(FloatVector.fromArray(S, logits, off + i));
        float max = vmax.reduceLanes(VectorOperators.MAX);
        for (int i = bound; i < V; i++) max = Math.max(max, logits[off + i]);
        double sum = 0;
        for (int b0 = 0; b0 < bound; b0 += LogSoftmax.BLOCK) {
            int b1 = Math.min(bound, b0 + LogSoftmax.BLOCK);
            sum += VectorExp.expSum(logits, off + b0, off + b1, 1f, -max, null); // x·1 - max = x - max exactly
        }
        for (int i = bound; i < V; i++) sum += Math.exp(logits[off + i] - max);
        return (float) (logits[off + target] - max - Math.log(sum));
    }
}
