package attnspark.kernels;

import static attnspark.kernels.KernelWarmUp.HEADS;
import static attnspark.kernels.KernelWarmUp.HEAD_DIM;
import static attnspark.kernels.KernelWarmUp.HIDDEN;
import static attnspark.kernels.KernelWarmUp.INTERMEDIATE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import attnspark.tensor.FloatTensor;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class KernelWarmUpTest {
    /** The warm-up runs the real kernels on a real layer: its output is a plain double-precision layer's. */
    @Test
    void oneLayerIsAnEncoderLayerComputedPlainly() {
        KernelWarmUp w = new KernelWarmUp();
        float[] want = plainLayer(w);
        w.layer();
        for (int i = 0; i < want.length; i++) assertEquals(want[i], w.x[i], 2e-4, "index " + i);
    }

    @Test
    void stopsWhenAskedAndDoesNothingWithoutTheVectorApiLinears() {
        AtomicInteger checks = new AtomicInteger();
        assertEquals(2, KernelWarmUp.run(() -> checks.incrementAndGet() > 2, Long.MAX_VALUE));
        assertEquals(0, KernelWarmUp.run(() -> true, Long.MAX_VALUE));
        boolean prev = Kernels.useVectorApi(false);
        try {
            assertEquals(0, KernelWarmUp.run(() -> false, Long.MAX_VALUE));
        } finally {
            Kernels.useVectorApi(prev);
        }
        String kernel = System.getProperty("attnspark.kernel");
        System.setProperty("attnspark.kernel", "openblas");
        try {
            assertEquals(0, KernelWarmUp.run(() -> false, Long.MAX_VALUE), "native linears: nothing to warm up");
        } finally {
            if (kernel == null) System.clearProperty("attnspark.kernel");
            else System.setProperty("attnspark.kernel", kernel);
        }
        assertTrue(KernelWarmUp.run(() -> false, 50_000_000L) >= 1, "runs until its time is up");
    }

    /** x -> LN(x + attention(x·Wqkvᵀ + b)) = a -> LN(a + gelu(a·Wupᵀ + b)·Wdownᵀ + b), in doubles. */
    private static float[] plainLayer(KernelWarmUp w) {
        int T = w.tokens;
        double[] x = new double[T * HIDDEN];
        for (int i = 0; i < x.length; i++) x[i] = w.x[i];
        double[] qkv = linear(x, T, w.wQkv, w.bQkv);
        double[] attn = new double[T * HIDDEN];
        for (int b = 0; b + 1 < w.cuSeqlens.length; b++) {
            int s0 = w.cuSeqlens[b], n = w.cuSeqlens[b + 1] - s0;
            for (int h = 0; h < HEADS; h++) {
                for (int i = 0; i < n; i++) {
                    double[] p = new double[n];
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int j = 0; j < n; j++) {
                        double dot = 0;
                        for (int d = 0; d < HEAD_DIM; d++)
                            dot += qkv[(s0 + i) * 3 * HIDDEN + h * HEAD_DIM + d]
                                    * qkv[(s0 + j) * 3 * HIDDEN + HIDDEN + h * HEAD_DIM + d];
                        p[j] = dot * KernelWarmUp.SCALING;
                        max = Math.max(max, p[j]);
                    }
                    for (int j = 0; j < n; j++) sum += p[j] = Math.exp(p[j] - max);
                    for (int d = 0; d < HEAD_DIM; d++) {
                        double o = 0;
                        for (int j = 0; j < n; j++)
                            o += p[j] / sum * qkv[(s0 + j) * 3 * HIDDEN + 2 * HIDDEN + h * HEAD_DIM + d];
                        attn[(s0 + i) * HIDDEN + h * HEAD_DIM + d] = o;
                    }
                }
            }
        }
        double[] a = layerNorm(attn, x, T, w);
        double[] u = linear(a, T, w.wUp, w.bUp);
        for (int i = 0; i < u.length; i++) u[i] = Epilogue.gelu((float) u[i]);
        double[] out = layerNorm(linear(u, T, w.wDown, w.bDown), a, T, w);
        float[] f = new float[out.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) out[i];
        assertEquals(INTERMEDIATE, w.wUp.dim(0));
        return f;
    }

    private static double[] linear(double[] x, int rows, FloatTensor w, FloatTensor b) {
        int out = w.dim(0), in = w.dim(1);
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < out; o++) {
                double s = b.data[o];
                for (int k = 0; k < in; k++) s += x[r * in + k] * w.data[o * in + k];
                y[r * out + o] = s;
            }
        return y;
    }

    private static double[] layerNorm(double[] x, double[] residual, int rows, KernelWarmUp w) {
        double[] y = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double mean = 0, var = 0;
            for (int i = 0; i < HIDDEN; i++) mean += x[r * HIDDEN + i] + residual[r * HIDDEN + i];
            mean /= HIDDEN;
            for (int i = 0; i < HIDDEN; i++) {
                double d = x[r * HIDDEN + i] + residual[r * HIDDEN + i] - mean;
                var += d * d;
            }
            double inv = 1 / Math.sqrt(var / HIDDEN + 1e-12);
            for (int i = 0; i < HIDDEN; i++)
                y[r * HIDDEN + i] =
                        (x[r * HIDDEN + i] + residual[r * HIDDEN + i] - mean) * inv * w.lnWeight[i] + w.lnBias[i];
        }
        return y;
    }
}
