package attnspark.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A thread-count scope bounds the threads a loop keeps busy and sets OpenBLAS's count. */
@ExtendWith(OpenBlasKernel.class) // the OpenBLAS thread count is checked too
class ParallelScopeTest {
    /** Runs a loop of slow chunks and returns {distinct threads, most chunks running at once}. */
    private static int[] run(int n) {
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        AtomicInteger running = new AtomicInteger(), most = new AtomicInteger();
        AtomicInteger covered = new AtomicInteger();
        Parallel.forRange(n, 1, (from, to) -> {
            threads.add(Thread.currentThread());
            most.accumulateAndGet(running.incrementAndGet(), Math::max);
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            covered.addAndGet(to - from);
            running.decrementAndGet();
        });
        assertEquals(n, covered.get(), "every index once");
        return new int[] {threads.size(), most.get()};
    }

    @Test
    void oneThreadScopeRunsOnTheCaller() {
        try (var s = Parallel.scope(1)) {
            assertEquals(1, Parallel.threads());
            Set<Thread> seen = ConcurrentHashMap.newKeySet();
            Parallel.forRange(1000, 1, (from, to) -> seen.add(Thread.currentThread()));
            assertEquals(Set.of(Thread.currentThread()), seen);
            assertEquals(1, Kernels.openBlasThreads(), "OpenBLAS thread count follows the scope");
        }
    }

    @Test
    void twoThreadScopeNeverRunsMoreThanTwoChunksAtOnce() {
        try (var s = Parallel.scope(2)) {
            int[] r = run(64);
            assertTrue(r[1] <= 2, "at most 2 chunks at once, saw " + r[1]);
            assertTrue(r[0] <= 2, "at most 2 threads, saw " + r[0]);
            assertEquals(2, Kernels.openBlasThreads());
        }
    }

    @Test
    void scopesNestAndRestore() {
        int outside = Parallel.threads();
        try (var a = Parallel.scope(3)) {
            try (var b = Parallel.scope(1)) {
                assertEquals(1, Parallel.threads());
            }
            assertEquals(3, Parallel.threads());
        }
        assertEquals(outside, Parallel.threads());
        assertThrows(IllegalArgumentException.class, () -> Parallel.scope(0));
    }

    @Test
    void scopeIsPerThread() throws Exception {
        try (var s = Parallel.scope(1)) {
            int[] other = new int[1];
            Thread t = new Thread(() -> other[0] = Parallel.threads());
            t.start();
            t.join();
            assertEquals(
                    Integer.getInteger("attnspark.threads", Runtime.getRuntime().availableProcessors()), other[0]);
        }
    }
}
