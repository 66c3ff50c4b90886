package attnspark.kernels;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
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
    private static final ThreadLocal<IntSupplier> SCOPED = new ThreadLocal<>();

    private Parallel() {}

    @FunctionalInterface
    public interface Range {
        void run(int from, int to);
    }

    /** One item of {@link #forEachItem}, with the running thread's own state (its scratch buffers). */
    @FunctionalInterface
    public interface Item<S> {
        void run(S state, int item);
    }

    /** Threads a loop started on this thread may use: the open scope's, else the JVM default. */
    public static int threads() {
        IntSupplier scoped = SCOPED.get();
        return scoped != null ? Math.max(1, scoped.getAsInt()) : DEFAULT_THREADS;
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
        return scope(() -> threads, threads);
    }

    /**
     * Like {@link #scope(int)}, with a count read again at each loop started on this thread (a
     * Spark task that takes up cores the executor's other tasks left idle, see
     * attnspark.udf.TaskThreads); BLAS keeps {@code blasThreads}. Which chunks a loop makes never
     * changes a result's bits ({@link #forRange}), so the count may change between two loops.
     */
    public static Scope scope(IntSupplier threads, int blasThreads) {
        Scope s = new Scope(SCOPED.get());
        SCOPED.set(threads);
        Kernels.blasThreads(blasThreads);
        return s;
    }

    /**
     * Until {@code close()}, loops started on this thread run on it alone; BLAS keeps its count.
     * For an item of a parallel loop that itself calls kernels (a block of rows taken from one
     * projection through the next on one core): their loops would otherwise fan out again from
     * inside the pool.
     */
    public static Scope onThisThread() {
        Scope s = new Scope(SCOPED.get());
        SCOPED.set(ONE_THREAD);
        return s;
    }

    private static final IntSupplier ONE_THREAD = () -> 1;

    /** An open thread-count scope; closing restores the previous count of this thread. */
    public static final class Scope implements AutoCloseable {
        private final IntSupplier previous;

        private Scope(IntSupplier previous) {
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

    /**
     * Runs body over [0, n) in chunks; small n (below minPerChunk per thread) stays on the caller.
     * The chunk boundaries depend on n, minPerChunk and {@link #threads()} only, never on which
     * thread runs a chunk, so results are the same however the chunks are scheduled.
     */
    public static void forRange(int n, int minPerChunk, Range body) {
        int chunks = Math.min(threads(), Math.max(1, n / Math.max(1, minPerChunk)));
        if (chunks <= 1) {
            body.run(0, n);
            return;
        }
        if (SpinningPool.INSTANCE.tryRun(n, chunks, body)) return;
        // the pool is busy with another caller's loop (or this is a nested loop): the common
        // fork-join pool; one element per chunk: a parallel stream never runs more leaf tasks at once
        // than elements
        IntStream.range(0, chunks)
                .parallel()
                .forEach(c -> body.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks)));
    }

    /**
     * Runs body over items 0..n-1, each thread claiming the next unclaimed item, for items of
     * unequal cost: a row block and a sliver of one, a long sequence and a short one. forRange's
     * contiguous halves left one thread with the 512-row block of a 528-row linear while the other
     * had the 16-row rest (half speed). Each thread that takes part gets its own {@code
     * state.get()}. Which thread runs an item must not change what the item computes.
     */
    public static <S> void forEachItem(int n, Supplier<S> state, Item<S> body) {
        AtomicInteger next = new AtomicInteger();
        forRange(Math.min(n, threads()), 1, (from, to) -> {
            S own = state.get();
            for (int item; (item = next.getAndIncrement()) < n; ) body.run(own, item);
        });
    }

    /**
     * Worker threads that spin for a while after each loop before they park, as OpenMP runtimes
     * and ONNX Runtime's thread pool do. A forward pass is a string of short loops (a linear, a
     * LayerNorm, an attention call: tens of microseconds to milliseconds each); a parked fork-join
     * worker takes longer to wake than some of them last, so the caller ran both halves of many
     * loops alone (JFR: the caller thread had 1.4x the worker's samples in an all-MiniLM-L6-v2
     * bench). One loop at a time: a second caller meanwhile gets {@code false} and uses the
     * common pool. Chunks are claimed from a counter by the caller and the workers alike.
     */
    private static final class SpinningPool {
        static final SpinningPool INSTANCE = new SpinningPool(DEFAULT_THREADS - 1);
        private static final long SPIN_NANOS = 2_000_000; // after a loop: covers the gaps inside a forward pass

        private final AtomicBoolean busy = new AtomicBoolean();
        private final Thread[] workers;
        private volatile Loop loop; // the loop running now, or null
        private final ThreadLocal<Boolean> inside = ThreadLocal.withInitial(() -> false);

        /** One forRange call: chunks claimed by index, counted when done. */
        private static final class Loop {
            final int n, chunks;
            final Range body;
            final AtomicInteger next = new AtomicInteger(), done = new AtomicInteger();
            volatile Throwable error;

            Loop(int n, int chunks, Range body) {
                this.n = n;
                this.chunks = chunks;
                this.body = body;
            }

            /** Runs chunks until none is left to claim. */
            void work() {
                for (int c; (c = next.getAndIncrement()) < chunks; ) {
                    try {
                        body.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks));
                    } catch (Throwable t) {
                        error = t;
                    } finally {
                        done.incrementAndGet();
                    }
                }
            }
        }

        private SpinningPool(int count) {
            workers = new Thread[Math.max(0, count)];
            for (int i = 0; i < workers.length; i++) {
                int index = i;
                workers[i] = new Thread(() -> workerLoop(index), "attnspark-parallel-" + (i + 1));
                workers[i].setDaemon(true);
                workers[i].start();
            }
        }

        boolean tryRun(int n, int chunks, Range body) {
            if (workers.length == 0 || inside.get() || !busy.compareAndSet(false, true)) return false;
            inside.set(true);
            try {
                Loop l = new Loop(n, chunks, body);
                loop = l;
                for (int w = 0; w < Math.min(workers.length, chunks - 1); w++) LockSupport.unpark(workers[w]);
                l.work();
                while (l.done.get() < chunks) Thread.onSpinWait();
                loop = null;
                if (l.error instanceof RuntimeException e) throw e;
                if (l.error instanceof Error e) throw e;
                if (l.error != null) throw new IllegalStateException(l.error);
                return true;
            } finally {
                inside.set(false);
                busy.set(false);
            }
        }

        /**
         * Worker {@code index} takes part in loops of more than index + 1 chunks only, and spins
         * only after such a loop: on a large executor whose tasks use two threads each, one
         * worker spins, not all of them.
         */
        private void workerLoop(int index) {
            inside.set(true); // a loop inside a chunk runs on the common pool, never waits on this one
            long idleSince = System.nanoTime() - SPIN_NANOS;
            while (true) {
                Loop l = loop;
                if (l != null && index < l.chunks - 1 && l.next.get() < l.chunks) {
                    l.work();
                    idleSince = System.nanoTime();
                } else if (System.nanoTime() - idleSince < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this); // tryRun unparks the workers a loop can use
                }
            }
        }
    }
}
