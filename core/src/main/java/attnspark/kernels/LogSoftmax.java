package attnspark.kernels;

/**
 * {@code log_softmax(logits)[target]} of one row, the max subtracted first; the sum of
 * exponentials is formed in blocks of {@value #BLOCK} (float lanes inside a block, blocks added in
 * double), so a 128k-token vocabulary keeps ~1e-6 relative accuracy. With the Vector API when the
 * JVM has it ({@link VectorLogSoftmax}), else plain loops; either way the summation order is
 * fixed by V alone, so a row's value never depends on other rows.
 */
public final class LogSoftmax {
    static final int BLOCK = 1024;

    private LogSoftmax() {}

    public static float at(float[] logits, int off, int V, int target) {
        if (target < 0 || target >= V)
            throw new IllegalArgumentException("target token " + target + " outside vocab " + V);
        return Kernels.vectorApi() ? VectorLogSoftmax.at(logits, off, V, target) : plain(logits, off, V, target);
    }

    static float plain(float[] logits, int off, int V, int target) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < V; i++) max = Math.max(max, logits[off + i]);
        double sum = 0;
        for (int i = 0; i < V; i++) sum += Math.exp(logits[off + i] - max);
        return (float) (logits[off + target] - max - Math.log(sum));
    }
}
