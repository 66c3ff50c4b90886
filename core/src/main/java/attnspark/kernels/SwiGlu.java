package attnspark.kernels;

/**
 * The gated MLP's element-wise step (HF LlamaMLP: {@code act_fn(gate_proj(x)) * up_proj(x)} with
 * SiLU): from the fused (rows, 2I) gate|up output to (rows, I), in parallel row chunks; with the
 * Vector API when the JVM has it ({@link VectorSwiGlu}), else plain loops. Row-local, so a row's
 * bits never depend on the other rows.
 */
public final class SwiGlu {
    private SwiGlu() {}

    /** gu (rows, 2I): gate in columns 0..I-1, up in I..2I-1; returns silu(gate) * up, (rows, I). */
    public static float[] apply(float[] gu, int rows, int I) {
        float[] out = new float[rows * I];
        apply(FloatSpan.of(gu), rows, I, FloatSpan.of(out));
        return out;
    }

    /** {@link #apply(float[], int, int)} from and into spans (an activation arena's). */
    public static void apply(FloatSpan guSpan, int rows, int I, FloatSpan outSpan) {
        float[] gu = guSpan.array(), out = outSpan.array();
        int g0 = guSpan.offset(), o0 = outSpan.offset();
        boolean vector = Kernels.vectorApi();
        Parallel.forRange(rows, Math.max(1, (1 << 14) / Math.max(1, I)), (from, to) -> {
            for (int t = from; t < to; t++) {
                if (vector) VectorSwiGlu.row(gu, g0 + t * 2 * I, out, o0 + t * I, I);
                else row(gu, g0 + t * 2 * I, out, o0 + t * I, I, I);
            }
        });
    }

    /** silu(g) * u = g / (1 + e^-g) * u for n gates from gu[src], their up values I further on. */
    static void row(float[] gu, int src, float[] out, int dst, int n, int I) {
        for (int i = 0; i < n; i++) {
            float g = gu[src + i];
            out[dst + i] = g / (1f + (float) Math.exp(-g)) * gu[src + I + i];
        }
    }
}
