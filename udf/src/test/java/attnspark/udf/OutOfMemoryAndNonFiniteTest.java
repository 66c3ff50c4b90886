package attnspark.udf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import attnspark.api.EmbeddingResult;
import attnspark.api.ModelOptions;
import attnspark.api.TextEmbedder;
import attnspark.api.TextScorer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What leaves the engine as a row: an OutOfMemoryError in a batch is retried text by text and
 * only a text that still does not fit becomes an error row; a NaN embedding is an error row
 * naming why, never a value; an OutOfMemoryError while loading the replica becomes one
 * job-level message saying what to raise (Spark would otherwise end the executor, exit 50).
 */
class OutOfMemoryAndNonFiniteTest {
    @AfterEach
    void reset() {
        ModelReplicas.setFactoryForTests(null);
    }

    @Test
    void outOfMemoryInABatchFailsOnlyTheTextThatCannotFit() {
        List<Outcome<Integer>> out = BatchedCalls.run(List.of("a", "huge", "bb"), texts -> {
            if (texts.size() > 1 || texts.get(0).equals("huge")) throw new OutOfMemoryError("Java heap space");
            return List.of(texts.get(0).length());
        });
        assertEquals(1, out.get(0).value());
        assertNull(out.get(1).value());
        assertTrue(
                out.get(1).error().startsWith("OutOfMemoryError: Java heap space while processing this text"),
                out.get(1).error());
        assertTrue(
                out.get(1).error().contains("spark.executor.memory"), out.get(1).error());
        assertEquals(2, out.get(2).value());
    }

    @Test
    void aNanEmbeddingIsAnErrorRowAndItsNeighboursAreNot() {
        List<Outcome<EmbeddingResult>> out = BatchedCalls.run(List.of("fine", "nan", "also fine"), texts -> {
            List<EmbeddingResult> r = new ArrayList<>();
            for (String t : texts)
                r.add(new EmbeddingResult(new float[] {t.length(), t.equals("nan") ? Float.NaN : 1f}, 3, false));
            return r;
        });
        assertEquals(4f, out.get(0).value().vector()[0]);
        assertTrue(
                out.get(1).error().contains("the embedding is not finite (dimension 1 of 2 is NaN)"),
                out.get(1).error());
        assertEquals(9f, out.get(2).value().vector()[0]);
    }

    @Test
    void outOfMemoryWhileLoadingTheReplicaIsOneClearMessage() {
        ModelReplicas.setFactoryForTests(new ReplicaFactory() {
            @Override
            public TextEmbedder embedder(ModelOptions options) {
                throw new OutOfMemoryError("Java heap space");
            }

            @Override
            public TextScorer scorer(ModelOptions options) {
                throw new OutOfMemoryError("Java heap space");
            }
        });
        IllegalStateException e = assertThrows(
                IllegalStateException.class,
                () -> ModelReplicas.scorer(ModelOptions.defaults().withModelDir("/models/big")));
        assertTrue(
                e.getMessage().contains("loading the model /models/big ran out of memory (Java heap space)"),
                e.getMessage());
        assertTrue(e.getMessage().contains("spark.executor.memory"), e.getMessage());
        assertEquals(0, ModelReplicas.size(), "a failed load is not cached");
    }
}
