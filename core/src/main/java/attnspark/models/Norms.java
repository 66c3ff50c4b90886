package attnspark.models;

import attnspark.kernels.FloatSpan;
import attnspark.kernels.LayerNorm;
import attnspark.kernels.Parallel;

/** LayerNorm (BERT) and RMSNorm (Llama) over the last axis of a (rows, dim) matrix, in place. */
public final class Norms {
    private Norms() {}

    /** x = (x - mean) / sqrt(var + eps) * w + b, per row ({@link LayerNorm#row}). */
    public static void layerNorm(float[] x, int rows, int dim, float[] w, float[] b, float eps) {
        addLayerNorm(FloatSpan.of(x), null, rows, dim, w, b, eps);
    }

    /**
     * x = LayerNorm(x + residual) per row, one pass over each row (BertSelfOutput / BertOutput:
     * LayerNorm(dense + input)); both (rows, dim) from their span's offset; residual may be null.
     */
    public static void addLayerNorm(
            FloatSpan x, FloatSpan residual, int rows, int dim, float[] w, float[] b, float eps) {
        float[] xa = x.array(), ra = residual == null ? null : residual.array();
        int xo = x.offset(), ro = residual == null ? 0 : residual.offset();
        Parallel.forRange(rows, 64, (from, to) -> {
            for (int r = from; r < to; r++) LayerNorm.row(xa, xo + r * dim, ra, ro + r * dim, dim, w, b, eps);
        });
    }

    /** out = x / sqrt(mean(x²) + eps) * w, per row (HF LlamaRMSNorm, computed in float32). */
    public static float[] rmsNorm(float[] x, int rows, int dim, float[] w, float eps) {
        float[] out = new float[x.length];
        rmsNorm(FloatSpan.of(x), FloatSpan.of(out), rows, dim, w, eps);
        return out;
    }

    /** {@link #rmsNorm(float[], int, int, float[], float)} from and into spans (an activation arena's). */
    public static void rmsNorm(FloatSpan xs, FloatSpan outs, int rows, int dim, float[] w, float eps) {
        float[] x = xs.array(), out = outs.array();
        for (int r = 0; r < rows; r++) {
            int o = xs.offset() + r * dim, d = outs.offset() + r * dim;
            double ss = 0;
            for (int i = 0; i < dim; i++) ss += (double) x[o + i] * x[o + i];
            float inv = (float) (1.0 / Math.sqrt(ss / dim + eps));
            for (int i = 0; i < dim; i++) out[d + i] = w[i] * (x[o + i] * inv);
        }
    }
}
