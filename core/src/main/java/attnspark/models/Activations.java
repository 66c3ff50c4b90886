package attnspark.models;

/** Element-wise activations, in place. */
public final class Activations {
    private Activations() {
    }

    /** HF "gelu": exact, 0.5·x·(1 + erf(x/√2)). */
    public static void gelu(float[] x) {
        for (int i = 0; i < x.length; i++) x[i] = (float) (0.5 * x[i] * (1.0 + erf(x[i] / Math.sqrt(2.0))));
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
