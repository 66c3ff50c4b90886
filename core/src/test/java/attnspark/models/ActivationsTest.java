package attnspark.models;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ActivationsTest {
    /** erf by its Taylor series in double: an independent reference (erfc(5) < 2e-12 beyond). */
    static double erfSeries(double x) {
        if (Math.abs(x) > 5) return Math.signum(x);
        double sum = 0, term = x;
        for (int n = 0; n < 300; n++) {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.sqrt(Math.PI) * sum;
    }

    @Test
    void erfMatchesSeries() {
        for (double x = -6; x <= 6; x += 0.003) assertEquals(erfSeries(x), Activations.erf((float) x), 5e-7, "x=" + x);
    }

    @Test
    void geluMatchesExactFormula() {
        Random r = new Random(5);
        float[] x = new float[200_000];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * 4);
        x[0] = 10f;
        x[1] = -10f;
        x[2] = 0f;
        x[3] = 50f;
        x[4] = -50f;
        float[] y = x.clone();
        Activations.gelu(y);
        for (int i = 0; i < x.length; i++) {
            double want = 0.5 * x[i] * (1 + erfSeries(x[i] / Math.sqrt(2)));
            assertEquals(want, y[i], 1e-6 * Math.max(1, Math.abs(x[i])), "x=" + x[i]);
        }
    }
}
