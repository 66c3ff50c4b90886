package attnspark.models.tiny;

/** High-precision erf in double: Maclaurin series for |x| < 3, continued fraction for erfc beyond (|error| < 1e-15). */
final class Erf {
    private Erf() {}

    static double erf(double x) {
        if (Double.isNaN(x)) return x;
        double a = Math.abs(x);
        double r;
        if (a < 3) {
            // erf(x) = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1))
            double term = a, sum = a, x2 = a * a;
            for (int n = 1; n < 200; n++) {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-18 * Math.abs(sum)) break;
            }
            r = 2 / Math.sqrt(Math.PI) * sum;
        } else if (a > 8) {
            r = 1.0;
        } else {
            // erfc(x) = exp(-x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + 2/(x + ...)))))  (Lentz, evaluated backwards)
            double f = a;
            for (int k = 120; k >= 1; k--) f = a + (k / 2.0) / f;
            r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
        }
        return x < 0 ? -r : r;
    }
}
