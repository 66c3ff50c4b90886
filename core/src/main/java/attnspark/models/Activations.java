package attnspark.models;

import attnspark.kernels.Epilogue;
import attnspark.kernels.FloatSpan;
import attnspark.kernels.Parallel;

/** Element-wise activations, in place. */
public final class Activations {
    private Activations() {}

    /** HF "gelu": exact, 0.5·x·(1 + erf(x/√2)), in parallel chunks. */
    public static void gelu(float[] x) {
        gelu(x, 0, x.length);
    }

    /** gelu over x[first .. first+n). */
    private static void gelu(float[] x, int first, int n) {
        Parallel.forRange(n, 1 << 16, (from, to) -> {
            for (int i = first + from; i < first + to; i++) x[i] = Epilogue.gelu(x[i]);
        });
    }

    /** HF "gelu_new" / "gelu_pytorch_tanh" over x[first .. first+n). */
    private static void geluTanh(float[] x, int first, int n) {
        for (int i = first; i < first + n; i++) {
            double v = x[i];
            x[i] = (float) (0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))));
        }
    }

    public static void apply(String hiddenAct, float[] x) {
        apply(hiddenAct, FloatSpan.of(x), x.length);
    }

    /** hidden_act over n floats from the span's offset (an arena may be longer than the batch). */
    public static void apply(String hiddenAct, FloatSpan span, int n) {
        float[] x = span.array();
        int first = span.offset();
        switch (hiddenAct) {
            case "gelu" -> gelu(x, first, n);
            case "gelu_new", "gelu_pytorch_tanh" -> geluTanh(x, first, n);
            case "relu" -> {
                for (int i = first; i < first + n; i++) x[i] = Math.max(0f, x[i]);
            }
            default ->
                throw new IllegalArgumentException("hidden_act '" + hiddenAct
                        + "' is not supported; supported: gelu, gelu_new, gelu_pytorch_tanh, relu");
        }
    }

    /** The linear epilogue that computes this activation fused, or null when it has none (apply it separately). */
    public static Epilogue fused(String hiddenAct) {
        return "gelu".equals(hiddenAct) ? Epilogue.GELU : null;
    }

    /** See {@link Epilogue#erf}. */
    public static float erf(float x) {
        return Epilogue.erf(x);
    }
}
