package attnspark.bench;

import com.sun.management.ThreadMXBean;
import java.lang.management.ManagementFactory;

/**
 * Java heap bytes allocated by all threads, read before and after a timed pass. A pass allocates the
 * same bytes every time; a Vector API kernel that C2 left boxed in this JVM (its Java fallback
 * allocates a vector object per operation) shows as many KiB more per token, which execution
 * profiles hide (see docs/perf/history.md, 2026-12-06).
 */
final class HeapMeter {
    private static final ThreadMXBean THREADS = (ThreadMXBean) ManagementFactory.getThreadMXBean();

    private HeapMeter() {}

    /**
     * Heap bytes allocated so far by the threads alive now. A thread that ends between two readings
     * takes its count with it, so {@link #since} clamps the difference at 0: what it measures is the
     * pass's own threads (the caller and the kernels' pool), which live across it.
     */
    static long allocated() {
        long sum = 0;
        for (long b : THREADS.getThreadAllocatedBytes(THREADS.getAllThreadIds())) if (b > 0) sum += b;
        return sum;
    }

    /** Bytes allocated since {@code before}, a reading of {@link #allocated()}; never negative. */
    static long since(long before) {
        return Math.max(0, allocated() - before);
    }
}
