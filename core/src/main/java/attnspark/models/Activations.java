package attnspark.models;

/** Element-wise activations, in place. */
public final class Activations {
    private Activations() {
    }

    /** HF "gelu": exact, 0.5·x·(1 + erf(x/√2)). */
    public static double geluExact(double x) {
        return 0.5 * x * (1.0 + erf(x / Math.sqrt(2.0)));
    }

    // GELU is a third of an encoder's time if computed with erf per element, so it is read from
    // a table: cubic Hermite on a 1/256 grid over [-10, 10] (interpolation error ~1e-11, far
    // below float32 rounding); outside, GELU equals x or 0 to within 1e-22.
    private static final int GELU_SCALE = 256;
    private static final float GELU_LIMIT = 10f;
    private static final int GELU_N = (int) (2 * GELU_LIMIT * GELU_SCALE) + 2;
    private static final float[] GELU_V = new float[GELU_N], GELU_D = new float[GELU_N];

    static {
        for (int i = 0; i < GELU_N; i++) {
            double x = -GELU_LIMIT + (double) i / GELU_SCALE;
            GELU_V[i] = (float) geluExact(x);
            double cdf = 0.5 * (1 + erf(x / Math.sqrt(2.0))), pdf = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
            GELU_D[i] = (float) ((cdf + x * pdf) / GELU_SCALE);   // derivative in grid units
        }
    }

    public static void gelu(float[] x) {
        attnspark.kernels.Parallel.forRange(x.length, 1 << 16, (from, to) -> gelu(x, from, to));
    }

    private static void gelu(float[] x, int from, int to) {
        for (int i = from; i < to; i++) {
            float v = x[i];
            if (v >= GELU_LIMIT) continue;
            if (v <= -GELU_LIMIT) {
                x[i] = 0f;
                continue;
            }
            float u = (v + GELU_LIMIT) * GELU_SCALE;
            int k = (int) u;
            float t = u - k, t2 = t * t, t3 = t2 * t;
            x[i] = (2 * t3 - 3 * t2 + 1) * GELU_V[k] + (t3 - 2 * t2 + t) * GELU_D[k]
                    + (-2 * t3 + 3 * t2) * GELU_V[k + 1] + (t3 - t2) * GELU_D[k + 1];
        }
    }

    /** HF "gelu_new" / "gelu_pytorch_tanh". */
    public static void geluTanh(float[] x) {
        for (int i = 0; i < x.length; i++) {
            double v = x[i];
            x[i] = (float) (0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))));
        }
    }

    public static void apply(String hiddenAct, float[] x) {
        switch (hiddenAct) {
            case "gelu" -> gelu(x);
            case "gelu_new", "gelu_pytorch_tanh" -> geluTanh(x);
            case "relu" -> { for (int i = 0; i < x.length; i++) x[i] = Math.max(0f, x[i]); }
            default -> throw new IllegalArgumentException("hidden_act '" + hiddenAct
                    + "' is not supported; supported: gelu, gelu_new, gelu_pytorch_tanh, relu");
        }
    }

    /**
     * erf through the Numerical Recipes erfc Chebyshev fit (fractional error < 1.2e-7), below
     * float32 resolution, so GELU tracks ONNX Runtime's erf to rounding.
     */
    public static double erf(double x) {
        double t = 1.0 / (1.0 + 0.5 * Math.abs(x));
        double y = 1 - t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? y : -y;
    }
}
