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
        for (int i = 0; i < x.length; i += S.length())
            VectorExp.exp(FloatVector.fromArray(S, x, i)).intoArray(out, i);
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
    void softmaxExpIsExpWithoutTheUpperClampBitForBit() {
        // random bit patterns (any NaN or value above 88.7 negated) and the edges of exp's range:
        // softmaxExp drops only a clamp that changes nothing up to 88.7
        int n = 1 << 16;
        float[] x = new float[n];
        Random random = new Random(7);
        for (int i = 0; i < n; i++) {
            float v = Float.intBitsToFloat(random.nextInt());
            x[i] = Float.isNaN(v) || v > 88.72283f ? -v : v;
        }
        float[] edges = {Float.NEGATIVE_INFINITY, -Float.MAX_VALUE, -88f, -87.33654f, -87.3365f, -0f, 0f, 1e-7f, 88.7f};
        System.arraycopy(edges, 0, x, 0, edges.length);
        float[] want = exp(x), got = new float[n];
        for (int i = 0; i < n; i += S.length())
            VectorExp.softmaxExp(FloatVector.fromArray(S, x, i)).intoArray(got, i);
        for (int i = 0; i < n; i++) {
            if (Float.isNaN(x[i])) continue;
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), "softmaxExp(" + x[i] + ")");
            if (x[i] >= -87f && x[i] <= 0f)
                assertEquals(Math.exp(x[i]), got[i], 2 * Math.ulp((float) Math.exp(x[i])), "softmaxExp(" + x[i] + ")");
        }
        assertEquals(0f, got[0], "softmaxExp(-inf): a masked key adds nothing");
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
