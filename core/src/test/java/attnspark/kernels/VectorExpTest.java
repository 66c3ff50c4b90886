package attnspark.kernels;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.Random;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/** The decoder's vector element-wise kernels against plain double-precision references. */
class VectorExpTest {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    static float[] exp(float[] x) {
        float[] out = new float[x.length];
        VectorExp.expSum(x, 0, x.length, 1f, 0f, out);
        return out;
    }

    @Test
    void expWithinTwoUlpOfMathExpOverTheFloatRange() {
        int n = 1 << 16;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = -87f + 175f * i / n; // -87 .. 88
        float[] y = exp(x);
        for (int i = 0; i < n; i++) {
            double want = Math.exp(x[i]);
            assertEquals(want, y[i], 2 * Math.ulp((float) want), "exp(" + x[i] + ")");
        }
    }

    @Test
    void expOfAnyFloatUpTo88IsExpOrExactlyZeroBelowTheRange() {
        // random bit patterns (any NaN or value above 88.7 negated) and the edges of the range
        int n = 1 << 16;
        float[] x = new float[n];
        Random random = new Random(7);
        for (int i = 0; i < n; i++) {
            float v = Float.intBitsToFloat(random.nextInt());
            x[i] = Float.isNaN(v) || v > 88.72283f ? -v : v;
        }
        float[] edges = {Float.NEGATIVE_INFINITY, -Float.MAX_VALUE, -88f, -87.33654f, -87.3365f, -0f, 0f, 1e-7f, 88.7f};
        System.arraycopy(edges, 0, x, 0, edges.length);
        float[] got = exp(x);
        for (int i = 0; i < n; i++) {
            if (Float.isNaN(x[i])) continue;
            if (x[i] < -87.33654f) assertEquals(0f, got[i], "exp(" + x[i] + ") below the range is exactly 0");
            else if (x[i] >= -87f && x[i] <= 88f)
                assertEquals(Math.exp(x[i]), got[i], 2 * Math.ulp((float) Math.exp(x[i])), "exp(" + x[i] + ")");
            else if (x[i] > 88.38f) assertEquals(Float.POSITIVE_INFINITY, got[i], "exp(" + x[i] + "): 2^128");
        }
        assertEquals(0f, got[0], "exp(-inf): a masked key adds nothing");
    }

    @Test
    void expSumTakesItsArgumentByOneFmaAndSumsByTheLaneTree() {
        int L = S.length(), n = 64 * L;
        Random random = new Random(11);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (random.nextGaussian() * 30);
        x[0] = Float.NEGATIVE_INFINITY;
        x[1] = -1e30f;
        float scale = 0.125f, shift = -3.5f;
        float[] got = new float[n];
        float sum = VectorExp.expSum(x, 0, n, scale, shift, got);
        float[] arg = new float[n];
        for (int i = 0; i < n; i++) arg[i] = Math.fma(x[i], scale, shift);
        float[] want = exp(arg);
        for (int i = 0; i < n; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), "e^fma(" + x[i] + ")");
            assertEquals(Math.exp(arg[i]), got[i], 2 * Math.ulp((float) Math.exp(arg[i])), "e^" + arg[i]);
        }
        // lane-wise sums in index order, then lane i plus lane i xor half, halving: written plainly
        float[] lanes = new float[L];
        for (int i = 0; i < n; i++) lanes[i % L] += got[i];
        for (int h = L / 2; h >= 1; h /= 2) for (int i = 0; i < h; i++) lanes[i] += lanes[i + h];
        assertEquals(Float.floatToRawIntBits(lanes[0]), Float.floatToRawIntBits(sum));
        double exact = 0;
        for (float v : got) exact += v;
        assertEquals(exact, sum, 1e-5 * exact);
        // the sum alone, and in place, give the same bits
        assertEquals(
                Float.floatToRawIntBits(sum), Float.floatToRawIntBits(VectorExp.expSum(x, 0, n, scale, shift, null)));
        float[] inPlace = x.clone();
        assertEquals(
                Float.floatToRawIntBits(sum),
                Float.floatToRawIntBits(VectorExp.expSum(inPlace, 0, n, scale, shift, inPlace)));
        assertArrayEquals(got, inPlace);
        // a sub-range: only its lanes are written
        float[] part = new float[n];
        VectorExp.expSum(x, 2 * L, 5 * L, scale, shift, part);
        for (int i = 0; i < n; i++) assertEquals(i >= 2 * L && i < 5 * L ? got[i] : 0f, part[i], "index " + i);
    }

    @Test
    void expOfMaskedScoresIsExactlyZero() {
        float[] x = new float[S.length()];
        Arrays.fill(x, Float.NEGATIVE_INFINITY);
        x[1] = -88f;
        x[2] = -1e30f;
        x[3] = 0f;
        float[] y = exp(x);
        for (int i = 0; i < y.length; i++) {
            if (i == 3) assertEquals(1f, y[i]);
            else assertEquals(0f, y[i], "exp(" + x[i] + ") must be 0 so masked keys add nothing");
        }
    }

    @Test
    void vocabLogSoftmaxMatchesDoubleReference() {
        Random r = new Random(5);
        int V = 128256 + 3; // a tail past the lanes too
        float[] logits = new float[2 * V];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) (r.nextGaussian() * 4);
        for (int row = 0; row < 2; row++) {
            for (int target : new int[] {0, 17, V - 1}) {
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int i = 0; i < V; i++) max = Math.max(max, logits[row * V + i]);
                for (int i = 0; i < V; i++) sum += Math.exp(logits[row * V + i] - max);
                double want = logits[row * V + target] - max - Math.log(sum);
                assertEquals(
                        want,
                        VectorLogSoftmax.at(logits, row * V, V, target),
                        2e-5,
                        "row " + row + " target " + target);
                assertEquals(want, LogSoftmax.plain(logits, row * V, V, target), 2e-5);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> LogSoftmax.at(logits, 0, V, V));
    }

    @Test
    void swiGluMatchesDoubleReference() {
        Random r = new Random(9);
        int rows = 3, I = 8192 + 5;
        float[] gu = new float[rows * 2 * I];
        for (int i = 0; i < gu.length; i++) gu[i] = (float) (r.nextGaussian() * 3);
        // gates where e^-g passes the float range (clamped on the way) and where it underflows
        float[] extreme = {-100f, -88.8f, -88.7f, -1e30f, 95f, 1e30f};
        for (int i = 0; i < extreme.length; i++) gu[2 * I + 3 * i] = extreme[i]; // row 1's gates
        float[] got = SwiGlu.apply(gu, rows, I);
        for (int t = 0; t < rows; t++) {
            for (int i = 0; i < I; i++) {
                double g = gu[t * 2 * I + i], u = gu[t * 2 * I + I + i];
                double want = g / (1 + Math.exp(-g)) * u;
                assertEquals(want, got[t * I + i], 1e-6 * Math.max(1, Math.abs(want)), "row " + t + " i " + i);
            }
        }
    }
}
