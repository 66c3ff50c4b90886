package attnspark.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * e^x on float lanes from IEEE adds, multiplies and bit moves only (Cephes expf: x = n·ln2 + r,
 * a degree-6 polynomial in r, times 2^n; ~1 ulp). Why not {@code lanewise(EXP)}: the JDK computes
 * that with a different routine in the interpreter (Math.exp per lane) than in C2-compiled code
 * (a vector intrinsic), so the same input gives different bits before and after the JIT warms
 * up, which breaks bitwise batch invariance. The operations here are exactly rounded in every
 * tier. x below -87.3 (including -inf) gives exactly 0; x above 88.7 saturates near Float.MAX.
 * Loaded only with jdk.incubator.vector.
 */
public final class VectorExp {
    private static final float LOG2E = 1.44269504088896341f, ROUND = 12582912f;   // 1.5·2^23: adding it rounds to an integer
    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final float MIN_X = -87.33654f, MAX_X = 88.72283f;

    private VectorExp() {
    }

    public static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(MIN_X).min(MAX_X);
        FloatVector shifted = xc.mul(LOG2E).add(ROUND);                      // n = rint(x / ln2) sits in the low mantissa bits
        FloatVector n = shifted.sub(ROUND);
        FloatVector r = xc.sub(n.mul(LN2_HI)).sub(n.mul(LN2_LO));         // |r| <= ln2/2
        FloatVector p = r.mul(1.9875691500e-4f).add(1.3981999507e-3f);
        p = p.mul(r).add(8.3334519073e-3f);
        p = p.mul(r).add(4.1665795894e-2f);
        p = p.mul(r).add(1.6666665459e-1f);
        p = p.mul(r).add(5.0000001201e-1f);
        p = p.mul(r.mul(r)).add(r).add(1f);
        // bits(shifted) = bits(1.5·2^23) + n, so 2^n = (bits(shifted) - bits(1.5·2^23) + 127) << 23: no float->int convert
        IntVector twoN = shifted.reinterpretAsInts().sub(ROUND_BITS - 127).lanewise(VectorOperators.LSHL, 23);
        FloatVector y = p.mul(twoN.reinterpretAsFloats());
        return y.blend(0f, x.lt(MIN_X));
    }

    /** Σ lanes in lane order (reduceLanes(ADD) may add in another order once compiled). */
    public static float sum(FloatVector v, float[] scratch) {
        v.intoArray(scratch, 0);
        float s = 0f;
        for (int i = 0; i < v.length(); i++) s += scratch[i];
        return s;
    }
}
