package attnspark.attention.flex;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import attnspark.attention.AdditiveMask;
import attnspark.attention.MaskFormats;
import attnspark.attention.MaskFunction;
import attnspark.tensor.FloatTensor;
import java.util.Random;

/** Shared helpers of the flex tests. */
final class FlexTesting {
    private FlexTesting() {}

    static FloatTensor rand(Random r, int... shape) {
        FloatTensor t = FloatTensor.zeros(shape);
        for (int i = 0; i < t.data.length; i++) t.data[i] = (float) r.nextGaussian();
        return t;
    }

    /** The eager-format additive mask (B, 1, Sq, Skv) of the same mask function (head 0), as eager_mask builds it. */
    static AdditiveMask eagerMask(MaskFunction f, int B, int Sq, int Skv) {
        float[] add = new float[B * Sq * Skv];
        for (int b = 0; b < B; b++) {
            for (int q = 0; q < Sq; q++) {
                for (int kv = 0; kv < Skv; kv++)
                    add[(b * Sq + q) * Skv + kv] = f.test(b, 0, q, kv) ? 0f : MaskFormats.MIN_VALUE;
            }
        }
        return new AdditiveMask(new FloatTensor(add, B, 1, Sq, Skv));
    }

    static boolean rowHasKey(MaskFunction f, int b, int q, int Skv) {
        for (int kv = 0; kv < Skv; kv++) if (f.test(b, 0, q, kv)) return true;
        return false;
    }

    /**
     * Rows that can attend to something must match the oracle; rows that cannot must be zeros
     * (eager gives a uniform average there, HF's finfo.min arithmetic).
     */
    static void assertMatchesOracle(
            FloatTensor want, FloatTensor got, MaskFunction f, int Skv, double tol, String what) {
        assertArrayEquals(want.shape, got.shape, what);
        int B = got.dim(0), Sq = got.dim(1), H = got.dim(2), Dv = got.dim(3);
        for (int b = 0; b < B; b++) {
            for (int q = 0; q < Sq; q++) {
                boolean visible = f == null || rowHasKey(f, b, q, Skv);
                for (int i = ((b * Sq + q) * H) * Dv; i < ((b * Sq + q + 1) * H) * Dv; i++) {
                    assertFalse(Float.isNaN(got.data[i]), what + ": NaN at " + i);
                    assertEquals(
                            visible ? want.data[i] : 0f,
                            got.data[i],
                            tol,
                            what + ": b=" + b + " q=" + q + " index " + i);
                }
            }
        }
    }
}
