package attnspark.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LayerNormTest {
    /**
     * x and the residual at different offsets of their arrays (an arena's spans), against
     * LayerNorm(x + residual) in double precision; floats around the row stay as they were. Rows
     * of 384 (whole lane-groups) and 100 (a scalar tail), far from zero mean and near it.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void rowAtOffsetsMatchesTheDoubleFormula(boolean vector) {
        boolean prev = Kernels.useVectorApi(vector);
        try {
            Random rnd = new Random(5);
            for (int dim : new int[] {384, 100}) {
                for (float center : new float[] {0f, 300f}) {
                    float[] w = new float[dim], b = new float[dim];
                    for (int i = 0; i < dim; i++) {
                        w[i] = 1f + (float) rnd.nextGaussian() * 0.1f;
                        b[i] = (float) rnd.nextGaussian() * 0.1f;
                    }
                    int xo = 3, ro = 17;
                    float[] x = new float[xo + dim + 4], residual = new float[ro + dim];
                    Arrays.fill(x, -9f);
                    double[] sum = new double[dim];
                    for (int i = 0; i < dim; i++) {
                        x[xo + i] = center + (float) rnd.nextGaussian();
                        residual[ro + i] = (float) rnd.nextGaussian();
                        sum[i] = (double) x[xo + i] + residual[ro + i];
                    }
                    double mean = 0, var = 0;
                    for (double v : sum) mean += v / dim;
                    for (double v : sum) var += (v - mean) * (v - mean) / dim;
                    LayerNorm.row(x, xo, residual, ro, dim, w, b, 1e-12f);
                    for (int i = 0; i < dim; i++) {
                        double want = (sum[i] - mean) / Math.sqrt(var + 1e-12) * w[i] + b[i];
                        assertEquals(
                                want,
                                x[xo + i],
                                2e-5 * (1 + Math.abs(want)),
                                "vector " + vector + " dim " + dim + " center " + center + " element " + i);
                    }
                    for (int i = 0; i < xo; i++) assertEquals(-9f, x[i], "before the row, float " + i);
                    for (int i = xo + dim; i < x.length; i++) assertEquals(-9f, x[i], "after the row, float " + i);
                }
            }
        } finally {
            Kernels.useVectorApi(prev);
        }
    }
}
