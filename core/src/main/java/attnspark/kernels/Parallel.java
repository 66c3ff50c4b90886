package attnspark.kernels;

import java.util.stream.IntStream;

/**
 * Splits a loop over [0, n) into contiguous chunks run on the common fork-join pool, for the
 * element-wise and attention loops that BLAS does not cover. At most {@link #threads()} chunks
 * run at once (the caller runs one), so a loop never keeps more threads busy than that.
 * <p>
 * The count is {@code -Dattnspark.threads=N} (default: all processors) unless a {@link #scope}
 * is open on the calling thread: a Spark task opens one with its {@code spark.task.cpus}, so
 * two 1-core tasks on a 2-core machine run two busy threads, not four.
 */
public final class Parallel {
    private static final int DEFAULT_THREADS = Math.max(
            1, Integer.getInteger("attnspark.threads", Runtime.getRuntime().availableProcessors()));
    private static final ThreadLocal<Integer> SCOPED = new ThreadLocal<>();

    private Parallel() {}

    @FunctionalInterface
    public interface Range {
        void run(int from, int to);
    }

    /** Threads a loop started on this thread may use: the open scope's, else the JVM default. */
    public static int threads() {
        Integer scoped = SCOPED.get();
        return scoped != null ? scoped : DEFAULT_THREADS;
    }

    /**
     * Until {@code close()}, loops started on this thread use at most {@code threads} threads, and
     * BLAS uses {@code threads} (OpenBLAS's count is per process: every task of a Spark application
     * has the same {@code spark.task.cpus}, so they all set the same value). Scopes nest.
     */
    public static Scope scope(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("thread count must be >= 1, got " + threads);
        }
        Scope s = new Scope(SCOPED.get());
        SCOPED.set(threads);
        Kernels.blasThreads(threads);
        return s;
    }

    /** An open thread-count scope; closing restores the previous count of this thread. */
    public static final class Scope implements AutoCloseable {
        private final Integer previous;

        private Scope(Integer previous) {
            this.previous = previous;
        }

        @Override
        public void close() {
            if (previous == null) {
                SCOPED.remove();
            } else {
                SCOPED.set(previous);
            }
        }
    }

    /** Runs body over [0, n) in chunks; small n (below minPerChunk per thread) stays on the caller. */
    public static void forRange(int n, int minPerChunk, Range body) {
        int chunks = Math.min(threads(), Math.max(1, n / Math.max(1, minPerChunk)));
        if (chunks <= 1) {
            body.run(0, n);
            return;
        }
        // one element per chunk: a parallel stream never runs more leaf tasks at once than elements
        IntStream.range(0, chunks)
                .parallel()
                .forEach(c -> body.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks)));
    }
}
