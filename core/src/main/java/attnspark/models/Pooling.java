package attnspark.models;

import attnspark.kernels.FloatSpan;

/** Sentence-transformers pooling over a packed (T, D) hidden state, one vector per sequence. */
public final class Pooling {
    private Pooling() {}

    public static String check(String mode) {
        return switch (mode) {
            case "mean", "cls", "last" -> mode;
            default ->
                throw new IllegalArgumentException("pooling '" + mode + "' is not supported; use mean, cls or last");
        };
    }

    /** mean: over every real token (special tokens included, as sentence-transformers does); cls: first; last: last real. */
    public static float[] pool(String mode, float[] hidden, int dim, int start, int length, boolean normalize) {
        return pool(mode, FloatSpan.of(hidden), dim, start, length, normalize);
    }

    /** {@link #pool(String, float[], int, int, int, boolean)} over hidden states (T, dim) from the span's offset. */
    public static float[] pool(String mode, FloatSpan states, int dim, int start, int length, boolean normalize) {
        float[] v = new float[dim], hidden = states.array();
        int h0 = states.offset();
        switch (mode) {
            case "mean" -> {
                double[] acc = new double[dim];
                for (int t = start; t < start + length; t++)
                    for (int d = 0; d < dim; d++) acc[d] += hidden[h0 + t * dim + d];
                for (int d = 0; d < dim; d++) v[d] = (float) (acc[d] / Math.max(1, length));
            }
            case "cls" -> System.arraycopy(hidden, h0 + start * dim, v, 0, dim);
            case "last" -> System.arraycopy(hidden, h0 + (start + length - 1) * dim, v, 0, dim);
            default ->
                throw new IllegalArgumentException("pooling '" + mode + "' is not supported; use mean, cls or last");
        }
        if (normalize) {
            double ss = 0;
            for (float x : v) ss += (double) x * x;
            // sentence-transformers Normalize: x / max(||x||, 1e-12)
            double inv = 1.0 / Math.max(Math.sqrt(ss), 1e-12);
            for (int d = 0; d < dim; d++) v[d] = (float) (v[d] * inv);
        }
        return v;
    }
}
