package attnspark.kernels;

import attnspark.tensor.FloatTensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LinearKernelTest {
    @Test
    void blasLinearMatchesPlainLoops() {
        Random rnd = new Random(7);
        int rows = 37, in = 67, out = 29;
        float[] w = new float[out * in], b = new float[out], x = new float[rows * in];
        for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        FloatTensor W = new FloatTensor(w, out, in), B = new FloatTensor(b, out);
        float[] ref = new JavaLinear(W, B).forward(x, rows);
        float[] got = new Nd4jLinear(W, B).forward(x, rows);
        float[] gotNoBias = new Nd4jLinear(W, null).forward(x, rows);
        float[] blas = new OpenBlasLinear(W, B).forward(x, rows);
        float[] blasNoBias = new OpenBlasLinear(W, null).forward(x, rows);
        assertEquals(ref.length, got.length);
        for (int i = 0; i < ref.length; i++) {
            assertEquals(ref[i], got[i], 1e-4, "index " + i);
            assertEquals(ref[i] - b[i % out], gotNoBias[i], 1e-4, "index " + i);
            assertEquals(ref[i], blas[i], 1e-4, "index " + i);
            assertEquals(ref[i] - b[i % out], blasNoBias[i], 1e-4, "index " + i);
        }
    }

    /** Spark runs one task per core against one shared model: concurrent gemms must not mix. */
    @Test
    void blasLinearIsCorrectUnderConcurrentCalls() throws Exception {
        Random rnd = new Random(11);
        int in = 96, out = 80;
        float[] w = new float[out * in];
        for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian();
        FloatTensor W = new FloatTensor(w, out, in);
        Linear blas = new OpenBlasLinear(W, null), ref = new JavaLinear(W, null);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            java.util.List<java.util.concurrent.Future<?>> fs = new java.util.ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int seed = t;
                fs.add(pool.submit(() -> {
                    Random r = new Random(seed);
                    for (int it = 0; it < 30; it++) {
                        int rows = 1 + r.nextInt(300);
                        float[] x = new float[rows * in];
                        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                        float[] a = blas.forward(x, rows), b = ref.forward(x, rows);
                        for (int i = 0; i < a.length; i++) assertEquals(b[i], a[i], 1e-3, "thread " + seed + " iter " + it);
                    }
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> f : fs) f.get();
        } finally {
            pool.shutdown();
        }
    }
}
