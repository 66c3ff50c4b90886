package attnspark.udf;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.api.ModelOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The local-mode preload warms the model up on synthetic texts only until the first model task starts or it is closed. */
class PreloadWarmUpTest {
    /**
     * A closed preload's threads end on their own a moment later; the next test's preload of the
     * same options would otherwise meet the running one and get a handle that does nothing.
     */
    @AfterEach
    void awaitPreloadThreadsAndReset() throws InterruptedException {
        awaitUntil(
                () -> threadsNamed(DocPartitionFunction.PRELOAD_THREAD)
                                + threadsNamed(DocPartitionFunction.KERNEL_WARM_UP_THREAD)
                        == 0,
                30,
                () -> "a closed preload's threads still run 30 s later");
        ModelReplicas.setFactoryForTests(null);
    }

    /** Polls {@code done} every 5 ms; fails with {@code failure}'s message once {@code seconds} have passed. */
    private static void awaitUntil(BooleanSupplier done, long seconds, Supplier<String> failure)
            throws InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (!done.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, failure);
            Thread.sleep(5);
        }
    }

    private static void awaitCalls(AtomicInteger calls, int atLeast) throws InterruptedException {
        awaitUntil(
                () -> calls.get() >= atLeast, 30, () -> "the preload made " + calls.get() + " warm-up calls in 30 s");
    }

    /** Calls seen after the warm-up has had time to notice the stop: none may follow. */
    private static void assertStopped(AtomicInteger calls) throws InterruptedException {
        Thread.sleep(300); // a call under way when the stop came finishes
        int settled = calls.get();
        Thread.sleep(500);
        assertEquals(settled, calls.get(), "warm-up calls went on after the stop");
    }

    @Test
    void warmsUpOnItsOwnTextsUntilAModelTaskStarts() throws Exception {
        AtomicInteger warmUps = new AtomicInteger();
        List<List<String>> seen = new CopyOnWriteArrayList<>();
        ModelReplicas.setFactoryForTests(FakeModels.watchingEmbeds(texts -> {
            if (Thread.currentThread().getName().equals(DocPartitionFunction.PRELOAD_THREAD)) {
                warmUps.incrementAndGet();
            } else {
                seen.add(List.copyOf(texts));
            }
        }));
        EmbedPartitionFunction fn = new EmbedPartitionFunction(ModelOptions.defaults(), "id", "text", 8);
        try (DocPartitionFunction.Preload preload = fn.preloadInBackground()) {
            awaitCalls(warmUps, 3);
            List<Row> out = new ArrayList<>();
            fn.call(List.of(RowFactory.create("a", "one two three", null)).iterator())
                    .forEachRemaining(out::add);
            assertStopped(warmUps);
            assertEquals(List.of(List.of("one two three")), seen, "the task's call saw only its own rows");
            assertEquals(1, out.size());
        }
    }

    @Test
    void closingTheHandleStopsTheWarmUpAndASecondPreloadStartsNoSecondThread() throws Exception {
        AtomicInteger warmUps = new AtomicInteger();
        ModelReplicas.setFactoryForTests(FakeModels.watchingEmbeds(texts -> warmUps.incrementAndGet()));
        EmbedPartitionFunction fn = new EmbedPartitionFunction(ModelOptions.defaults(), "id", "text", 8);
        DocPartitionFunction.Preload first = fn.preloadInBackground();
        awaitCalls(warmUps, 3);
        long threads = preloadThreads();
        DocPartitionFunction.Preload second = fn.preloadInBackground();
        assertEquals(threads, preloadThreads(), "a second preload of the same model while one runs");
        second.close(); // the no-op handle does not stop the running warm-up
        int before = warmUps.get();
        awaitCalls(warmUps, before + 3);
        first.close();
        assertStopped(warmUps);
    }

    @Test
    void theKernelWarmUpEndsOnceTheModelIsLoaded() throws Exception {
        AtomicInteger warmUps = new AtomicInteger();
        ModelReplicas.setFactoryForTests(FakeModels.watchingEmbeds(texts -> warmUps.incrementAndGet()));
        EmbedPartitionFunction fn = new EmbedPartitionFunction(ModelOptions.defaults(), "id", "text", 8);
        try (DocPartitionFunction.Preload preload = fn.preloadInBackground()) {
            awaitCalls(warmUps, 3); // the model is loaded and warming up
            // it checks between layers (under a second each, interpreted); left alone it would run 6 s
            awaitUntil(
                    () -> threadsNamed(DocPartitionFunction.KERNEL_WARM_UP_THREAD) == 0,
                    3,
                    () -> "the kernel warm-up still runs 3 s after the model loaded");
        }
    }

    private static long preloadThreads() {
        return threadsNamed(DocPartitionFunction.PRELOAD_THREAD);
    }

    private static long threadsNamed(String name) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals(name) && t.isAlive())
                .count();
    }
}
