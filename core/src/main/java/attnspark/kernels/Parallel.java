package attnspark.kernels;

import java.util.stream.IntStream;

/**
 * Splits a loop over [0, n) into contiguous chunks run on the common fork-join pool, for the
 * element-wise and attention loops that BLAS does not cover. {@code -Dattnspark.threads=N}
 * caps the chunks (1 = run on the caller, e.g. one Spark task per core).
 */
public final class Parallel {
    private static final int THREADS = Integer.getInteger("attnspark.threads", Runtime.getRuntime().availableProcessors());

    private Parallel() {
    }

    @FunctionalInterface
    public interface Range {
        void run(int from, int to);
    }

    /** How many chunks a loop is split into at most: the cores, or -Dattnspark.threads. */
    public static int threads() {
        return THREADS;
    }

    /** Runs body over [0, n) in chunks; small n (below minPerChunk per thread) stays on the caller. */
    public static void forRange(int n, int minPerChunk, Range body) {
        int chunks = Math.min(THREADS, Math.max(1, n / Math.max(1, minPerChunk)));
        if (chunks <= 1) {
            body.run(0, n);
            return;
        }
        IntStream.range(0, chunks).parallel().forEach(c -> body.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks)));
    }
}
