package attnspark.models.tiny;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import attnspark.kernels.Kernels;
import attnspark.models.Activations;
import attnspark.models.Norms;
import attnspark.models.Pooling;
import attnspark.models.RotaryEmbedding;
import attnspark.models.SequenceBatch;
import attnspark.tensor.FloatTensor;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Each shared layer against a plain double loop written from the HF / PyTorch formula. */
class TinyLayerTest {
    final Random rng = new Random(20240611);

    float[] randn(int n, double std) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rng.nextGaussian() * std);
        return x;
    }

    static double[] row(float[] x, int r, int dim) {
        double[] v = new double[dim];
        for (int i = 0; i < dim; i++) v[i] = x[r * dim + i];
        return v;
    }

    static double[] d(float[] x) {
        double[] v = new double[x.length];
        for (int i = 0; i < x.length; i++) v[i] = x[i];
        return v;
    }

    // ------------------------------------------------------------------ norms

    @Test
    void rmsNormMatchesLoop() {
        int rows = 5, dim = 24;
        float[] x = randn(rows * dim, 3.0), w = randn(dim, 1.0);
        float[] copy = x.clone();
        float[] out = Norms.rmsNorm(x, rows, dim, w, 1e-6f);
        assertArrayEquals(copy, x, "rmsNorm must not modify its input");
        for (int r = 0; r < rows; r++) {
            double[] ref = NaiveLlama.rmsNorm(row(copy, r, dim), d(w), 1e-6f);
            for (int i = 0; i < dim; i++)
                assertEquals(ref[i], out[r * dim + i], 1e-5 * (1 + Math.abs(ref[i])), "row " + r + " dim " + i);
        }
        // eps dominates an all-zero row: output zero, no NaN
        float[] z = Norms.rmsNorm(new float[dim], 1, dim, w, 1e-6f);
        for (float v : z) assertEquals(0.0, v, 0.0);
    }

    /** Both kernels: the Vector API lanes (dim 20 = a lane-group and a scalar tail) and the plain double loops. */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void layerNormMatchesLoopAcrossParallelChunks(boolean vector) {
        boolean prev = Kernels.useVectorApi(vector);
        try {
            layerNormMatchesLoop();
        } finally {
            Kernels.useVectorApi(prev);
        }
    }

    private void layerNormMatchesLoop() {
        int rows = 150, dim = 20; // more rows than one parallel chunk
        float[] x = randn(rows * dim, 2.0), w = randn(dim, 1.0), b = randn(dim, 0.5);
        for (int i = 0; i < dim; i++) x[7 * dim + i] += 1000f; // large mean: the variance must be centred
        float[] orig = x.clone();
        Norms.layerNorm(x, rows, dim, w, b, 1e-12f);
        for (int r = 0; r < rows; r++) {
            double[] ref = NaiveBert.layerNorm(row(orig, r, dim), d(w), d(b), 1e-12f);
            // Like torch's float32 layer_norm, the centring subtracts the mean rounded to float32: for
            // row 7 (values near 1000) that shifts every output by |mean - (float) mean| / std * |w_i|
            // (up to half an ulp of 1000 = 3e-5, over a std near 2). Other rows: float32 rounding only.
            double mean = 0, var = 0;
            for (int i = 0; i < dim; i++) mean += orig[r * dim + i];
            mean /= dim;
            for (int i = 0; i < dim; i++) var += (orig[r * dim + i] - mean) * (orig[r * dim + i] - mean);
            double centring = Math.abs(mean - (float) mean) / Math.sqrt(var / dim);
            for (int i = 0; i < dim; i++) {
                double tol = 1e-5 * (1 + Math.abs(ref[i])) + centring * Math.abs(w[i]);
                assertEquals(ref[i], x[r * dim + i], tol, "row " + r + " dim " + i);
            }
        }
        // constant row: variance 0, output = bias (eps keeps it finite)
        float[] c = new float[dim];
        Arrays.fill(c, 4f);
        Norms.layerNorm(c, 1, dim, w, b, 1e-5f);
        for (int i = 0; i < dim; i++) assertEquals(b[i], c[i], 1e-6);
    }

    // ------------------------------------------------------------------ activations

    @Test
    void referenceErfKnownValues() {
        assertEquals(0.0, Erf.erf(0), 0);
        assertEquals(0.5204998778130465, Erf.erf(0.5), 1e-15);
        assertEquals(0.8427007929497149, Erf.erf(1), 1e-15);
        assertEquals(0.9953222650189527, Erf.erf(2), 1e-15);
        assertEquals(-0.9999779095030014, Erf.erf(-3), 1e-14);
        assertEquals(0.9999992569016276, Erf.erf(3.5), 1e-15);
        assertEquals(1.0, Erf.erf(10), 0);
    }

    @Test
    void erfAndExactGeluMatchHighPrecisionErf() {
        double worstErf = 0;
        for (int i = -1000; i <= 1000; i++) {
            float x = i * 0.01f;
            worstErf = Math.max(worstErf, Math.abs(Activations.erf(x) - Erf.erf(x)));
        }
        assertTrue(worstErf < 1e-6, "erf max error " + worstErf);

        float[] x = new float[4001];
        for (int i = 0; i < x.length; i++) x[i] = (i - 2000) * 0.005f; // [-10, 10]
        float[] y = x.clone();
        float[] big = randn(1 << 17, 3.0); // above the parallel chunk size
        float[] bigY = big.clone();
        Activations.gelu(y);
        Activations.gelu(bigY);
        for (int i = 0; i < x.length; i++) {
            double ref = NaiveBert.gelu(x[i]);
            assertEquals(ref, y[i], 2e-6 + 2e-6 * Math.abs(ref), "gelu(" + x[i] + ")");
        }
        for (int i = 0; i < big.length; i++) {
            double ref = NaiveBert.gelu(big[i]);
            assertEquals(ref, bigY[i], 2e-6 + 2e-6 * Math.abs(ref), "gelu(" + big[i] + ")");
        }
        float[] viaApply = x.clone();
        Activations.apply("gelu", viaApply);
        assertArrayEquals(y, viaApply);
    }

    @Test
    void tanhGeluAndRelu() {
        float[] x = randn(500, 3.0);
        for (String name : new String[] {"gelu_new", "gelu_pytorch_tanh"}) {
            float[] y = x.clone();
            Activations.apply(name, y);
            for (int i = 0; i < x.length; i++) {
                double v = x[i];
                double ref = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
                assertEquals(ref, y[i], 1e-6 * (1 + Math.abs(ref)), name);
            }
        }
        float[] r = x.clone();
        Activations.apply("relu", r);
        for (int i = 0; i < x.length; i++) assertEquals(Math.max(0f, x[i]), r[i]);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> Activations.apply("swish2", new float[1]));
        assertTrue(e.getMessage().contains("swish2"), e.getMessage());
    }

    // ------------------------------------------------------------------ rotary

    static Map<String, Object> scaling(String type) {
        return switch (type) {
            case "default" -> null;
            case "linear" -> Map.of("rope_type", "linear", "factor", 3.0);
            case "llama3" -> TinyLlamaTest.llama3RopeScaling();
            default -> throw new IllegalArgumentException(type);
        };
    }

    /** Pair (i, i + d/2) as the complex number a + ic, multiplied by e^{iθ}, θ = pos · inv_freq[i]. */
    @ParameterizedTest
    @ValueSource(strings = {"default", "linear", "llama3"})
    void rotaryApplyIsAComplexRotation(String type) {
        int B = 2, H = 3, S = 7, Dh = 8, half = Dh / 2;
        double theta = 10000.0;
        RotaryEmbedding rope = new RotaryEmbedding(Dh, theta, scaling(type));
        double[] invFreq = NaiveLlama.invFreq(Dh, theta, scaling(type));
        int[][] pos = new int[B][S];
        for (int b = 0; b < B; b++)
            for (int s = 0; s < S; s++) pos[b][s] = b == 0 ? s : 40 - 3 * s; // not 0..S-1 in batch 1
        FloatTensor x = new FloatTensor(randn(B * H * S * Dh, 1.0), B, H, S, Dh);
        float[] orig = x.data.clone();
        RotaryEmbedding.apply(x, pos, rope.table(40));
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < H; h++) {
                for (int s = 0; s < S; s++) {
                    int o = ((b * H + h) * S + s) * Dh;
                    for (int i = 0; i < half; i++) {
                        double angle = pos[b][s] * invFreq[i];
                        double re = orig[o + i], im = orig[o + i + half];
                        double outRe = re * Math.cos(angle) - im * Math.sin(angle);
                        double outIm = re * Math.sin(angle) + im * Math.cos(angle);
                        assertEquals(outRe, x.data[o + i], 2e-5, type + " b" + b + " h" + h + " s" + s + " re " + i);
                        assertEquals(
                                outIm, x.data[o + i + half], 2e-5, type + " b" + b + " h" + h + " s" + s + " im " + i);
                    }
                }
            }
        }
    }

    @Test
    void rotaryRejectsOddHeadDimAndUnknownType() {
        assertThrows(IllegalArgumentException.class, () -> new RotaryEmbedding(7, 10000, null));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new RotaryEmbedding(8, 10000, Map.of("rope_type", "yarn-ish", "factor", 2.0)));
        assertTrue(e.getMessage().contains("yarn-ish"), e.getMessage());
    }

    // ------------------------------------------------------------------ pooling

    @Test
    void poolingMeanClsLastAndNormalize() {
        int D = 6;
        int[] lengths = {4, 1, 3};
        int S = 4, B = lengths.length;
        // padded (B, S, D) with garbage at padding, and the mask
        float[][][] padded = new float[B][S][D];
        boolean[][] mask = new boolean[B][S];
        for (int b = 0; b < B; b++)
            for (int s = 0; s < S; s++) {
                mask[b][s] = s < lengths[b];
                for (int k = 0; k < D; k++) padded[b][s][k] = mask[b][s] ? (float) rng.nextGaussian() : 1e6f;
            }
        // packed (T, D) of the real tokens
        int T = 8;
        float[] packed = new float[T * D];
        int[] start = new int[B];
        int t = 0;
        for (int b = 0; b < B; b++) {
            start[b] = t;
            for (int s = 0; s < lengths[b]; s++, t++) for (int k = 0; k < D; k++) packed[t * D + k] = padded[b][s][k];
        }
        for (int b = 0; b < B; b++) {
            // sentence-transformers mean: sum(h * mask) / clamp(sum(mask), 1e-9)
            double[] mean = new double[D];
            double count = 0;
            for (int s = 0; s < S; s++) {
                if (!mask[b][s]) continue;
                count++;
                for (int k = 0; k < D; k++) mean[k] += padded[b][s][k];
            }
            for (int k = 0; k < D; k++) mean[k] /= Math.max(count, 1e-9);
            double[] cls = new double[D], last = new double[D];
            for (int k = 0; k < D; k++) {
                cls[k] = padded[b][0][k];
                last[k] = padded[b][lengths[b] - 1][k];
            }
            for (Object[] m : new Object[][] {{"mean", mean}, {"cls", cls}, {"last", last}}) {
                double[] ref = (double[]) m[1];
                float[] got = Pooling.pool((String) m[0], packed, D, start[b], lengths[b], false);
                for (int k = 0; k < D; k++) assertEquals(ref[k], got[k], 1e-6, m[0] + " seq " + b);
                float[] unit = Pooling.pool((String) m[0], packed, D, start[b], lengths[b], true);
                double norm = 0;
                for (double v : ref) norm += v * v;
                norm = Math.sqrt(norm);
                for (int k = 0; k < D; k++) assertEquals(ref[k] / norm, unit[k], 1e-6, m[0] + " normalized seq " + b);
            }
        }
        // F.normalize: a zero vector stays zero (divided by max(norm, 1e-12)), no NaN
        float[] zero = Pooling.pool("mean", new float[2 * D], D, 0, 2, true);
        for (float v : zero) assertEquals(0.0, v, 0.0);
        assertThrows(IllegalArgumentException.class, () -> Pooling.check("max"));
    }

    // ------------------------------------------------------------------ SequenceBatch

    @Test
    void toHeadsAndFromHeadsMatchExplicitIndexing() {
        int[][] ids = {{1, 2, 3}, {4}, {5, 6, 7, 8, 9}};
        SequenceBatch batch = new SequenceBatch(ids);
        assertEquals(9, batch.totalTokens);
        assertEquals(5, batch.maxLength);
        assertArrayEquals(new int[] {0, 3, 4, 9}, batch.offsets);
        int heads = 2, Dh = 3, colOffset = 4, stride = colOffset + heads * Dh + 2;
        float[] x = randn(batch.totalTokens * stride, 1.0);
        FloatTensor t = batch.toHeads(x, stride, colOffset, heads, Dh);
        assertArrayEquals(new int[] {3, heads, 5, Dh}, t.shape);
        for (int b = 0; b < 3; b++)
            for (int h = 0; h < heads; h++)
                for (int s = 0; s < 5; s++)
                    for (int k = 0; k < Dh; k++) {
                        float expect =
                                s < ids[b].length ? x[(batch.offsets[b] + s) * stride + colOffset + h * Dh + k] : 0f;
                        assertEquals(expect, t.data[((b * heads + h) * 5 + s) * Dh + k], 0f);
                    }
        // fromHeads: (B, S, H, D) -> packed (T, H·D), padding rows dropped
        float[] attn = randn(3 * 5 * heads * Dh, 1.0);
        float[] packed = batch.fromHeads(new FloatTensor(attn, 3, 5, heads, Dh));
        assertEquals(batch.totalTokens * heads * Dh, packed.length);
        for (int b = 0; b < 3; b++)
            for (int s = 0; s < ids[b].length; s++)
                for (int h = 0; h < heads; h++)
                    for (int k = 0; k < Dh; k++) {
                        assertEquals(
                                attn[((b * 5 + s) * heads + h) * Dh + k],
                                packed[(batch.offsets[b] + s) * heads * Dh + h * Dh + k],
                                0f);
                    }
        boolean[][] pm = batch.paddingMask();
        for (int b = 0; b < 3; b++) for (int s = 0; s < 5; s++) assertEquals(s < ids[b].length, pm[b][s]);
        int[][] pos = batch.positionIds();
        for (int b = 0; b < 3; b++) for (int s = 0; s < ids[b].length; s++) assertEquals(s, pos[b][s]);
        assertNull(new SequenceBatch(new int[][] {{1, 2}, {3, 4}}).paddingMask(), "equal lengths need no mask");
    }
}
