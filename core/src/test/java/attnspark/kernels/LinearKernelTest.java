package attnspark.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import attnspark.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

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
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int seed = t;
                fs.add(pool.submit(() -> {
                    Random r = new Random(seed);
                    for (int it = 0; it < 30; it++) {
                        int rows = 1 + r.nextInt(300);
                        float[] x = new float[rows * in];
                        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                        float[] a = blas.forward(x, rows), b = ref.forward(x, rows);
                        for (int i = 0; i < a.length; i++)
                            assertEquals(b[i], a[i], 1e-3, "thread " + seed + " iter " + it);
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) f.get();
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void vectorLinearMatchesPlainLoopsWithTailsAndGelu() {
        Random rnd = new Random(13);
        // 29 and 100 outputs leave partial panels; 37 and 19 rows leave partial 8-row tiles
        for (int[] shape : new int[][] {{37, 67, 29}, {19, 384, 100}, {8, 16, 48}}) {
            int rows = shape[0], in = shape[1], out = shape[2];
            float[] w = new float[out * in], b = new float[out], x = new float[rows * in];
            for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian();
            for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextGaussian();
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            FloatTensor W = new FloatTensor(w, out, in), B = new FloatTensor(b, out);
            float[] ref = new JavaLinear(W, B).forward(x, rows);
            float[] got = new VectorLinear(W, B).forward(x, rows);
            float[] noBias = new VectorLinear(W, null).forward(x, rows);
            float[] gelu = new float[rows * out + 5]; // longer than needed, as an arena is
            gelu[rows * out] = 42f;
            new VectorLinear(W, B).forward(x, rows, gelu, Epilogue.GELU);
            for (int i = 0; i < ref.length; i++) {
                double tol = 1e-5 * Math.sqrt(in) * 10;
                assertEquals(ref[i], got[i], tol, "index " + i);
                assertEquals(ref[i] - b[i % out], noBias[i], tol, "index " + i);
                // the fused lane-wise GELU is the scalar Epilogue.gelu (checked against exact erf in ActivationsTest),
                // bit for bit
                assertEquals(
                        Float.floatToRawIntBits(Epilogue.gelu(got[i])),
                        Float.floatToRawIntBits(gelu[i]),
                        "gelu index " + i);
            }
            assertEquals(42f, gelu[rows * out], "wrote past rows*out");
        }
    }

    /** The batch-invariance property at the kernel: a row's bits are the same alone, at any offset, in any number of rows. */
    @Test
    void vectorLinearRowBitsDoNotDependOnTheBatch() {
        Random rnd = new Random(17);
        int in = 384, out = 1152, rows = 61;
        float[] w = new float[out * in], b = new float[out], x = new float[rows * in];
        for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian() * 0.05f;
        for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        Linear lin = new VectorLinear(new FloatTensor(w, out, in), new FloatTensor(b, out));
        float[] all = lin.forward(x, rows);
        for (int start : new int[] {0, 3, 8, 13, 40}) {
            for (int n : new int[] {1, 5, 8, 17}) {
                if (start + n > rows) continue;
                float[] part = lin.forward(Arrays.copyOfRange(x, start * in, (start + n) * in), n);
                for (int r = 0; r < n; r++) {
                    for (int j = 0; j < out; j++) {
                        int i = (start + r) * out + j;
                        assertEquals(
                                Float.floatToRawIntBits(all[i]),
                                Float.floatToRawIntBits(part[r * out + j]),
                                "row " + (start + r) + " col " + j + " in a call of " + n + " rows from " + start);
                    }
                }
            }
        }
    }

    /**
     * Each output is the plain fma chain over k starting from the bias, bit for bit, on every
     * path: long k (over 2048 inputs) runs in 128-step slivers with partial sums parked between
     * steps and row blocks of ~1M floats of x (2100 inputs end in a partial step, 1100 rows of
     * 2100 inputs split into three equal blocks, the last with tail rows; 100 and 50 outputs leave
     * partial panels); 512 x 4100 weights (8.4 MB) take the streamed-weight row block at whole k;
     * with k-steps, weights past 8 MB or inputs past 2048 take blocks of at least half of L2 of x and
     * 128 rows (1100 x 2100: eight blocks of 138 rows on a 2 MiB L2 or less; 270 x 2048 -> 1100, 9 MB
     * of weights: two blocks, the last with tail rows; 3 x 2048 -> 2048 and 9 x 512 -> 4100 one);
     * past 2048 inputs, a block whose x exceeds half of L2 runs k in chunks of a quarter of L2 with
     * every panel's partial sums parked between chunks (1100 x 2100: chunks of 896 / 896 / 308 on
     * a 2 MiB L2; 150 x 2100 -> 1500: one 150-row block, chunks of 768 / 768 / 564, 32 panels in 8
     * items of 4, a padded tail of 6 rows); streamed weights over two or more row blocks go panel
     * range by panel range, ranges of the budget below (270 x 2048 -> 1100 at 3 MiB / 1 MiB / 64
     * KiB: 3 / 9 / 23 ranges over two blocks; 260 x 2100 -> 1100, 9.3 MB: two 136-row blocks, k in
     * chunks, 3 / 9 / 23 ranges);
     * 300 rows of 2048 inputs split into ten blocks of 32 and 12 rows; the last k step of 8-row
     * tiles of whole panels stores straight into y, tail rows and partial panels go through acc
     * (37 x 384 -> 96: tiles and tail rows), and a GELU epilogue runs in place over y there.
     * Packed weights (AlignedFloats): 2048 -> 2048's (16.9 MB) are an array of their own, 384 ->
     * 96's and 200 -> 144's plain arrays, the others spans of shared slabs.
     * Through spans too: x and y at offsets inside longer arrays (the arena's rows on lines).
     * Both k-step settings (VectorLinear.kStepsAbove(): whole k up to 2048 inputs, AMD's; steps
     * past 128, Intel's) run on every shape, whichever CPU runs the test; with steps past 128,
     * 384 and 200 inputs end in partial steps. Blocks of under 64 rows with k-steps (1,536 and
     * 2,048 inputs) go panel range by panel range where the weights exceed a range's budget: with
     * budgets of 1 MiB and 64 KiB, 150 x 1536 -> 384 runs 3 and 8 ranges over four row blocks (the
     * last with tail rows), 70 x 1536 -> 100 3 ranges of one panel, the last partial. Tails of 3-7
     * rows past the last whole 8-row tile take the 8-row tile from a zero-padded copy of their x
     * rows (3, 19, 15 and 37 rows; blocks of 30 and 12 rows above), tails of 1-2 rows the 1-row
     * kernel (9 and 26 rows).
     */
    @Test
    void vectorLinearIsOneFmaChainPerOutput() {
        Random rnd = new Random(19);
        for (int[] shape : new int[][] {
            {19, 2100, 100},
            {1100, 2100, 50},
            {9, 512, 4100},
            {300, 2048, 20},
            {37, 384, 96},
            {45, 200, 144},
            {3, 2048, 2048},
            {270, 2048, 1100},
            {150, 2100, 1500},
            {260, 2100, 1100},
            {150, 1536, 384},
            {70, 1536, 100},
            {15, 300, 60},
            {26, 640, 48}
        }) {
            int rows = shape[0], in = shape[1], out = shape[2];
            float[] w = new float[out * in], b = new float[out], x = new float[rows * in];
            for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian() * 0.05f;
            for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextGaussian();
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            float[] chains = new float[rows * out];
            for (int r = 0; r < rows; r++) {
                for (int n = 0; n < out; n++) {
                    float acc = b[n];
                    for (int k = 0; k < in; k++) acc = Math.fma(x[r * in + k], w[n * in + k], acc);
                    chains[r * out + n] = acc;
                }
            }
            for (long[] setting : new long[][] {{2048, 3L << 20}, {128, 3L << 20}, {128, 1L << 20}, {128, 64L << 10}}) {
                int kStepsAbove = (int) setting[0];
                VectorLinear lin =
                        new VectorLinear(new FloatTensor(w, out, in), new FloatTensor(b, out), kStepsAbove, setting[1]);
                float[] got = lin.forward(x, rows), gelu = new float[rows * out];
                lin.forward(x, rows, gelu, Epilogue.GELU);
                // x and y inside longer arrays (an arena's spans): x 5 floats in, y 12 in, y's
                // neighbours left as they were
                float[] xShifted = new float[5 + x.length], yShifted = new float[12 + rows * out + 7];
                System.arraycopy(x, 0, xShifted, 5, x.length);
                Arrays.fill(yShifted, -7f);
                lin.forward(new FloatSpan(xShifted, 5), rows, new FloatSpan(yShifted, 12), Epilogue.GELU);
                for (int i = 0; i < chains.length; i++) {
                    String where = "row " + i / out + " col " + i % out + " of (" + rows + ", " + in + ") -> " + out
                            + ", k steps past " + kStepsAbove + ", panel ranges of " + setting[1] + " bytes";
                    assertEquals(Float.floatToRawIntBits(chains[i]), Float.floatToRawIntBits(got[i]), where);
                    int want = Float.floatToRawIntBits(Epilogue.gelu(chains[i]));
                    assertEquals(want, Float.floatToRawIntBits(gelu[i]), "gelu " + where);
                    assertEquals(want, Float.floatToRawIntBits(yShifted[12 + i]), "gelu from offsets, " + where);
                }
                for (int i = 0; i < 12; i++) assertEquals(-7f, yShifted[i], "y before its span, float " + i);
                for (int i = 12 + rows * out; i < yShifted.length; i++)
                    assertEquals(-7f, yShifted[i], "y after its span, float " + i);
            }
        }
    }
}
