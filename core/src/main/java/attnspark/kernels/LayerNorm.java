package attnspark.kernels;

/**
 * One row of LayerNorm, in place: {@code x = (x - mean) / sqrt(var + eps) * w + b}, optionally
 * after {@code x += residual} (BertSelfOutput / BertOutput: LayerNorm(dense + input)). With the
 * Vector API when the JVM has it ({@link VectorLayerNorm}: float lanes summed in a fixed order),
 * else plain loops in double. Either way a row's value depends on that row alone.
 */
public final class LayerNorm {
    private LayerNorm() {}

    /** Row {@code x[o .. o+dim)}, after adding {@code residual[ro .. ro+dim)} unless residual is null. */
    public static void row(float[] x, int o, float[] residual, int ro, int dim, float[] w, float[] b, float eps) {
        if (Kernels.vectorApi()) {
            VectorLayerNorm.row(x, o, residual, ro, dim, w, b, eps);
        } else {
            plain(x, o, residual, ro, dim, w, b, eps);
        }
    }

    static void plain(float[] x, int o, float[] residual, int ro, int dim, float[] w, float[] b, float eps) {
        if (residual != null) for (int i = 0; i < dim; i++) x[o + i] += residual[ro + i];
        double mean = 0;
        for (int i = 0; i < dim; i++) mean += x[o + i];
        mean /= dim;
        double var = 0;
        for (int i = 0; i < dim; i++) {
            double d = x[o + i] - mean;
            var += d * d;
        }
        var /= dim;
        float inv = (float) (1.0 / Math.sqrt(var + eps));
        float m = (float) mean;
        for (int i = 0; i < dim; i++) x[o + i] = (x[o + i] - m) * inv * w[i] + b[i];
    }
}
