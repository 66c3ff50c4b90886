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
 * the inner step of every attention softmax ({@link #expSum}).
 * Loaded only with jdk.incubator.vector.
 */
public final class VectorExp {
    private static final float LOG2E = 1.44269504088896341f,
            ROUND = 12582912f; // 1.5·2^23: adding it rounds to an integer
    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final float MIN_X = -87.33654f;
    /** The largest argument {@link #expSum} takes (its e^x is +inf from 88.38 on). */
    static final float MAX_X = 88.72283f;
    // a constant species: broadcasts with x.species() are not intrinsified where a method is compiled
    // on its own (not inlined), and then run the JDK's per-lane Java fallback, ~50x slower
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VectorExp() {}

    /**
     * out[i] = e^(x[i]·scale + shift) over [from, to) (whole lane-groups; the argument by one fma,
     * one rounding), and their sum by {@link #HALVES}' tree over the lane-wise sums in index order.
     * out may be x (in place) or null (the sum alone). Arguments below -87.3 (including -inf: a
     * masked score) give exactly 0; from 88.38 (n = 128) up to 88.7 +inf, past 88.7 the result is
     * undefined, which a softmax's shifted scores (at most 0 up to the max's rounding) never reach,
     * and {@link VectorSwiGlu} clamps before. No clamp above: its compare and blend were a quarter
     * of a softmax's time (MiniLM's 256-key rows: 0.37 -> 0.25-0.30 ns a score, in-JVM); JDK 17
     * turns each vector mask into a vector and back on AVX-512, and they sit on the exponential's
     * dependency chain.
     *
     * <p>Arrays in, a float out, and the exponential written out in the loop, not a method from
     * vector to vector: C2 inlines such a helper only while its heuristics allow (call-site counts,
     * node budgets, and never once the helper has standalone compiled code past InlineSmallCode),
     * and a vector that crosses a call that was not inlined is boxed, one allocation per lane-group.
     * The former vector-to-vector form forced out of line (-XX:CompileCommand=dontinline) cost
     * MiniLM 220,967 heap bytes a token and 0.88x the speed on long documents; JVMs ran so for good
     * after a deoptimization (docs/perf/history.md, 2026-12-08).
     */
    public static float expSum(float[] x, int from, int to, float scale, float shift, float[] out) {
        FloatVector acc = FloatVector.zero(S);
        for (int i = from; i < to; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, i).fma(scale, shift);
            FloatVector shifted = v.fma(LOG2E, ROUND); // n = rint(v / ln2) sits in the low mantissa bits
            FloatVector n = shifted.sub(ROUND);
            FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), v);
            r = n.fma(FloatVector.broadcast(S, -LN2_LO), r); // |r| <= ln2/2
            FloatVector p = r.fma(1.9875691500e-4f, 1.3981999507e-3f);
            p = p.fma(r, FloatVector.broadcast(S, 8.3334519073e-3f));
            p = p.fma(r, FloatVector.broadcast(S, 4.1665795894e-2f));
            p = p.fma(r, FloatVector.broadcast(S, 1.6666665459e-1f));
            p = p.fma(r, FloatVector.broadcast(S, 5.0000001201e-1f));
            p = p.fma(r.mul(r), r).add(1f);
            // bits(shifted) = bits(1.5·2^23) + n, so 2^n = (bits(shifted) - bits(1.5·2^23) + 127) << 23: no
            // float->int convert
            IntVector twoN = shifted.reinterpretAsInts().sub(ROUND_BITS - 127).lanewise(VectorOperators.LSHL, 23);
            FloatVector y = p.mul(twoN.reinterpretAsFloats()).blend(0f, v.lt(MIN_X));
            if (out != null) y.intoArray(out, i);
            acc = acc.add(y);
        }
        for (VectorShuffle<Float> h : HALVES) acc = acc.add(acc.rearrange(h));
        return acc.lane(0);
    }

    /**
     * Lane permutations i -> i xor half for half = lanes/2, lanes/4, ..., 1: the fixed tree every
     * kernel sums a vector's lanes by, {@code for (var h : HALVES) v = v.add(v.rearrange(h))}, then
     * lane 0 (lane i plus lane i xor half, halving). The same float adds in every JIT tier, where
     * reduceLanes(ADD) may add in another order once compiled; a chain in lane order was 16 dependent
     * adds per call, and a short softmax row or LayerNorm waits on it. Written out at each use, not
     * a method taking the vector: where C2 did not inline such a helper (as it does not at call sites
     * it finds cold, 42 bytecodes being past MaxInlineSize), every call boxed its vector, and MiniLM
     * allocated 53,509 heap bytes a token at 0.95x the speed (forced with
     * -XX:CompileCommand=dontinline; JVMs seen in that state for good from their start: 54,746).
     * Not by reinterpreting the vector as its 256- and 128-bit halves (the same adds, the same bits):
     * other shapes in the kernels' types pollute the profiles of the Vector API's shared templates,
     * C2 then compiles Java fallbacks into every kernel, and whole MiniLM passes ran 0.6-0.75x.
     */
    static final VectorShuffle<Float>[] HALVES = halves();

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
}
