package attnspark.models;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ActivationsTest {
    /** erf by its Taylor series, summed in double: an independent reference on |x| <= 3. */
    static double erfSeries(double x) {
        double sum = 0, term = x;
        for (int n = 0; n < 200; n++) {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.sqrt(Math.PI) * sum;
    }

    @Test
    void erfMatchesSeries() {
        for (double x = -3; x <= 3; x += 0.01) assertEquals(erfSeries(x), Activations.erf(x), 2e-7, "x=" + x);
    }

    @Test
    void tabulatedGeluMatchesExactFormula() {
        Random r = new Random(5);
        float[] x = new float[20000];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * 4);
        x[0] = 10f; x[1] = -10f; x[2] = 0f; x[3] = 9.999f; x[4] = -9.999f; x[5] = 50f; x[6] = -50f;
        float[] y = x.clone();
        Activations.gelu(y);
        for (int i = 0; i < x.length; i++) {
            double want = 0.5 * x[i] * (1 + erfSeriesOrTail(x[i] / Math.sqrt(2)));
            assertEquals(want, y[i], 1e-6 * Math.max(1, Math.abs(want)), "x=" + x[i]);
        }
    }

    private static double erfSeriesOrTail(double z) {
        return Math.abs(z) <= 3 ? erfSeries(z) : Activations.erf(z);
    }
}
