package attnspark.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * {@link Parallel#forRange} on its spinning worker pool: every index exactly once with the chunk
 * boundaries of the plain split, under concurrent callers (one gets the pool, the others the
 * common pool), nested loops (run inside a chunk), and a chunk that throws (the caller gets that
 * exception; the pool keeps working).
 */
class ParallelPoolTest {
    /** Runs a loop over n and checks each index was visited once, in a chunk of the plain split. */
    private static void visitOnce(int n, int threads) {
        AtomicIntegerArray seen = new AtomicIntegerArray(n);
        try (var s = Parallel.scope(threads)) {
            Parallel.forRange(n, 1, (from, to) -> {
                int chunks = Math.min(threads, n);
                boolean boundary = false;
                for (int c = 0; c < chunks; c++)
                    boundary |= from == (int) ((long) n * c / chunks) && to == (int) ((long) n * (c + 1) / chunks);
                if (!boundary) throw new AssertionError("chunk [" + from + ", " + to + ") is not one of the split");
                for (int i = from; i < to; i++) seen.incrementAndGet(i);
            });
        }
        for (int i = 0; i < n; i++) assertEquals(1, seen.get(i), "index " + i + " of " + n);
    }

    @Test
    void everyIndexOnceUnderConcurrentCallers() throws Exception {
        ExecutorService callers = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                int seed = c;
                done.add(callers.submit(() -> {
                    for (int r = 0; r < 300; r++) visitOnce(1 + (r * 37 + seed * 11) % 500, 2 + (r + seed) % 3);
                    return null;
                }));
            }
            for (Future<?> f : done) f.get();
        } finally {
            callers.shutdownNow();
        }
    }

    @Test
    void nestedLoopsRunInsideAChunk() {
        int outer = 8, inner = 100;
        AtomicIntegerArray seen = new AtomicIntegerArray(outer * inner);
        try (var s = Parallel.scope(2)) {
            Parallel.forRange(outer, 1, (from, to) -> {
                for (int o = from; o < to; o++) {
                    int base = o * inner;
                    Parallel.forRange(inner, 1, (f, t) -> {
                        for (int i = f; i < t; i++) seen.incrementAndGet(base + i);
                    });
                }
            });
        }
        for (int i = 0; i < outer * inner; i++) assertEquals(1, seen.get(i), "index " + i);
    }

    @Test
    void aThrowingChunkReachesTheCallerAndThePoolGoesOn() {
        try (var s = Parallel.scope(2)) {
            IllegalStateException e = assertThrows(
                    IllegalStateException.class,
                    () -> Parallel.forRange(10, 1, (from, to) -> {
                        if (from > 0) throw new IllegalStateException("chunk from " + from);
                    }));
            assertEquals("chunk from 5", e.getMessage());
        }
        visitOnce(1000, 2);
    }

    /**
     * forEachItem: every item once, each with the state of the thread running it (a state is never
     * used by two threads), and items are claimed one at a time: while the caller's first item
     * waits for all the others, another thread runs them (contiguous halves would leave half of
     * them behind the waiting item until the timeout).
     */
    @Test
    void forEachItemRunsEveryItemOnceAndBalancesASlowItem() throws Exception {
        int n = 40;
        AtomicIntegerArray seen = new AtomicIntegerArray(n);
        CountDownLatch others = new CountDownLatch(n - 1);
        Set<Thread> owners = ConcurrentHashMap.newKeySet();
        AtomicReference<String> sharedState = new AtomicReference<>();
        try (var s = Parallel.scope(2)) {
            Parallel.forEachItem(n, () -> new Thread[1], (owner, item) -> {
                if (owner[0] == null) owner[0] = Thread.currentThread();
                if (owner[0] != Thread.currentThread()) sharedState.set("item " + item);
                owners.add(Thread.currentThread());
                seen.incrementAndGet(item);
                try {
                    if (item == 0) {
                        assertTrue(others.await(30, TimeUnit.SECONDS), "items 1.." + (n - 1) + " waited for item 0");
                    } else {
                        others.countDown();
                    }
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
        }
        for (int i = 0; i < n; i++) assertEquals(1, seen.get(i), "item " + i);
        assertNull(sharedState.get(), "a state was used by two threads");
        assertEquals(2, owners.size(), "threads that ran items");
    }
}
