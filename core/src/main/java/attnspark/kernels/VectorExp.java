package attnspark.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * e^x on float lanes from IEEE adds, multiplies, fused multiply-adds and bit moves only (Cephes
 * expf: x = n·ln2 + r, a degree-6 polynomial in r by Horner's rule in fmas, times 2^n; ~1 ulp). Why not {@code lanewise(EXP)}: the JDK computes
 * that with a different routine in the interpreter (Math.exp per lane) than in C2-compiled code
 * (a vector intrinsic), so the same input gives different bits before and after the JIT warms
 * up, which breaks bitwise batch invariance. The operations here are exactly rounded in every
 * tier (an fma is Math.fma per lane when interpreted, one vfmadd once compiled: the same bits),
 * and the fmas make it about a third fewer instructions than separate multiplies and adds: it is
 * the inner step of every attention softmax ({@link #softmaxExp}). x below -87.3 (including -inf) gives exactly 0; x above 88.7 saturates near Float.MAX.
 * Loaded only with jdk.incubator.vector.
 */
public final class VectorExp {
    private static final float LOG2E = 1.44269504088896341f,
            ROUND = 12582912f; // 1.5·2^23: adding it rounds to an integer
    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final float MIN_X = -87.33654f, MAX_X = 88.72283f;
    // a constant species: broadcasts with x.species() are not intrinsified where exp is compiled on
    // its own (not inlined), and then run the JDK's per-lane Java fallback, ~50x slower
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VectorExp() {}

    /** x must be of {@link FloatVector#SPECIES_PREFERRED}, as every caller's is. */
    public static FloatVector exp(FloatVector x) {
        // clamp by compare + blend: max/min carry Java's NaN and ±0 rules, several instructions
        // each once compiled; below MIN_X needs no clamp, softmaxExp's blend zeroes it
        return softmaxExp(x.blend(MAX_X, x.compare(VectorOperators.GT, MAX_X)));
    }

    /**
     * {@link #exp} without the clamp above 88.7, for a softmax's shifted scores (x = s - max, at
     * most 0 up to the rounding of the max): the same bits for every x up to 88.7. The clamp's
     * compare and blend were a quarter of a softmax's time (MiniLM's 256-key rows: 0.37 -> 0.25-0.30
     * ns a score, in-JVM): JDK 17 turns each vector mask into a vector and back on AVX-512, and
     * they sit on the exponential's dependency chain. Above 88.7 the result is undefined.
     */
    public static FloatVector softmaxExp(FloatVector x) {
        VectorSpecies<Float> s = S;
        FloatVector shifted = x.fma(LOG2E, ROUND); // n = rint(x / ln2) sits in the low mantissa bits
        FloatVector n = shifted.sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(s, -LN2_HI), x);
        r = n.fma(FloatVector.broadcast(s, -LN2_LO), r); // |r| <= ln2/2
        FloatVector p = r.fma(1.9875691500e-4f, 1.3981999507e-3f);
        p = p.fma(r, FloatVector.broadcast(s, 8.3334519073e-3f));
        p = p.fma(r, FloatVector.broadcast(s, 4.1665795894e-2f));
        p = p.fma(r, FloatVector.broadcast(s, 1.6666665459e-1f));
        p = p.fma(r, FloatVector.broadcast(s, 5.0000001201e-1f));
        p = p.fma(r.mul(r), r).add(1f);
        // bits(shifted) = bits(1.5·2^23) + n, so 2^n = (bits(shifted) - bits(1.5·2^23) + 127) << 23: no float->int
        // convert
        IntVector twoN = shifted.reinterpretAsInts().sub(ROUND_BITS - 127).lanewise(VectorOperators.LSHL, 23);
        FloatVector y = p.mul(twoN.reinterpretAsFloats());
        return y.blend(0f, x.lt(MIN_X));
    }

    /** Lane permutations i -> i xor half for half = lanes/2, lanes/4, ..., 1. */
    private static final VectorShuffle<Float>[] HALVES = halves();

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] halves() {
        int steps = Integer.numberOfTrailingZeros(S.length());
        VectorShuffle<Float>[] h = new VectorShuffle[steps];
        for (int k = 0, half = S.length() / 2; k < steps; k++, half /= 2) {
            int x = half;
            h[k] = VectorShuffle.fromOp(S, i -> i ^ x);
        }
        return h;
    }

    /**
     * Σ lanes by a fixed pairwise tree (lane i plus lane i xor half, halving), the same float adds
     * in every JIT tier (reduceLanes(ADD) may add in another order once compiled). A chain in lane
     * order was 16 dependent adds per call, and a short softmax row or LayerNorm waits on it.
     * Not by reinterpreting the vector as its 256- and 128-bit halves (the same adds, the same
     * bits): other shapes in the kernels' types pollute the profiles of the Vector API's shared
     * templates, C2 then compiles Java fallbacks into every kernel, and whole MiniLM passes ran
     * 0.6-0.75x (an in-JVM A/B looked faster only because the baseline class slowed down too).
     */
    public static float sum(FloatVector v) {
        for (VectorShuffle<Float> h : HALVES) v = v.add(v.rearrange(h));
        return v.lane(0);
    }
}
