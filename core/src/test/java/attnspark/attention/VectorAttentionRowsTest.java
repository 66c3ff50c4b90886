package attnspark.attention;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The Vector API softmax's own exp against Math.exp (double), over the range softmax feeds it (x - max <= 0) and beyond. */
class VectorAttentionRowsTest {
    @Test
    void expIsWithinTwoUlpsOfMathExpAndZeroBelowTheFloatRange() {
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        float[] x = new float[lanes], y = new float[lanes];
        double worst = 0;
        for (int i = -900000; i <= 880000; i += lanes) {
            for (int l = 0; l < lanes; l++) x[l] = (i + l) * 1e-4f;
            VectorAttentionRows.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, 0)).intoArray(y, 0);
            for (int l = 0; l < lanes; l++) {
                double want = Math.exp(x[l]);
                if (x[l] < -87.3f) {
                    assertEquals(0f, y[l], "exp(" + x[l] + ") below the cut-off");
                } else {
                    worst = Math.max(worst, Math.abs(y[l] - want) / Math.ulp((float) want));
                }
            }
        }
        assertEquals(0, worst, 2.0, "worst error in ulps");
        float[] special = new float[lanes];
        java.util.Arrays.fill(special, Float.NEGATIVE_INFINITY);
        special[0] = 0f;
        VectorAttentionRows.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, special, 0)).intoArray(y, 0);
        assertEquals(1f, y[0], "exp(0)");
        for (int l = 1; l < lanes; l++) assertEquals(0f, y[l], "exp(-inf)");
    }
}
