package attnspark.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import attnspark.tensor.FloatTensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The linear's tile as hidden copies of {@link FixedStrideTile8}, one per input width. */
class Tile8KernelTest {
    /**
     * Linears of several widths built and run interleaved in one JVM, 8-row tiles and a tail
     * row each: every output is the plain fma chain over k from the bias, bit for bit, so each
     * tile reads x at its own width's stride (a tile compiled with another width's stride reads
     * other rows' values).
     */
    @Test
    void eachWidthsTileReadsRowsAtItsOwnStride() {
        Random rnd = new Random(23);
        int[] widths = {3, 17, 384, 48, 1536};
        int rows = 17, out = 50;
        float[][] w = new float[widths.length][], b = new float[widths.length][], x = new float[widths.length][];
        VectorLinear[] linears = new VectorLinear[widths.length];
        for (int i = 0; i < widths.length; i++) {
            int in = widths[i];
            w[i] = gaussian(rnd, out * in);
            b[i] = gaussian(rnd, out);
            x[i] = gaussian(rnd, rows * in);
            linears[i] = new VectorLinear(new FloatTensor(w[i], out, in), new FloatTensor(b[i], out));
        }
        for (int round = 0; round < 2; round++) {
            for (int i = widths.length - 1; i >= 0; i--) {
                int in = widths[i];
                float[] got = linears[i].forward(x[i], rows);
                for (int r = 0; r < rows; r++) {
                    for (int n = 0; n < out; n++) {
                        float acc = b[i][n];
                        for (int k = 0; k < in; k++) acc = Math.fma(x[i][r * in + k], w[i][n * in + k], acc);
                        assertEquals(
                                Float.floatToRawIntBits(acc),
                                Float.floatToRawIntBits(got[r * out + n]),
                                "width " + in + ", row " + r + ", output " + n);
                    }
                }
            }
        }
    }

    /** One class per width: each is a C2 compilation of its own, so linears of one width share it. */
    @Test
    void oneHiddenClassPerWidth() {
        float[] packed = new float[0], bias = new float[0];
        Class<?> a = Tile8Kernel.forStride(777, packed, 0, bias).getClass();
        assertSame(a, Tile8Kernel.forStride(777, packed, 0, bias).getClass());
        assertNotSame(a, Tile8Kernel.forStride(778, packed, 0, bias).getClass());
        assertTrue(a.isHidden(), a + " is a hidden class");
        assertTrue(a.getName().startsWith(FixedStrideTile8.class.getName() + "/"), a.getName());
    }

    /** The template itself has no stride: initializing it says what to use instead. */
    @Test
    void theTemplateRefusesToRunAsItself() {
        ExceptionInInitializerError e = assertThrows(
                ExceptionInInitializerError.class,
                () -> Class.forName(
                        FixedStrideTile8.class.getName(), true, getClass().getClassLoader()));
        assertTrue(
                e.getCause().getMessage().contains("Tile8Kernel.forStride"),
                e.getCause().getMessage());
    }

    private static float[] gaussian(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }
}
