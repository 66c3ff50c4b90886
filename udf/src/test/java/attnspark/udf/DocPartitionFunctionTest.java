package attnspark.udf;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.api.ModelOptions;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Row plumbing of the partition functions, with {@link FakeModels} (no model, no SparkSession). */
class DocPartitionFunctionTest {
    @BeforeAll
    static void fake() {
        ModelReplicas.setFactoryForTests(new FakeModels());
    }

    @AfterAll
    static void real() {
        ModelReplicas.setFactoryForTests(null);
    }

    private static List<Row> run(DocPartitionFunction<?> fn, Row... rows) throws Exception {
        List<Row> out = new ArrayList<>();
        Iterator<Row> it = fn.call(List.of(rows).iterator());
        it.forEachRemaining(out::add);
        return out;
    }

    @Test
    void everyRowGetsOneOutputAndBadRowsNameTheProblem() throws Exception {
        EmbedPartitionFunction fn = new EmbedPartitionFunction(ModelOptions.defaults(), "doc_id", "body", 2);
        List<Row> out = run(
                fn,
                RowFactory.create("a", "hello world", null),
                RowFactory.create("b", null, null),
                RowFactory.create(null, "orphan text", null),
                RowFactory.create(null, null, "{\"id\": \"x\", \"text\": "),
                RowFactory.create("e", "", null),
                RowFactory.create("f", "three words here", null),
                RowFactory.create("", "empty id", null));
        assertEquals(7, out.size());
        assertNull(out.get(0).get(4));
        assertEquals("a", out.get(0).getString(0));
        assertArrayEquals(new float[] {11f, 2f, 1f, -1f}, (float[]) out.get(0).get(1));
        assertEquals(4, out.get(0).getInt(2));
        assertFalse(out.get(0).getBoolean(3));
        assertEquals("row b: column 'body' is null", out.get(1).getString(4));
        assertNull(out.get(1).get(1));
        assertNull(out.get(2).get(0));
        assertTrue(
                out.get(2).getString(4).contains("column 'doc_id' is null"),
                out.get(2).getString(4));
        assertTrue(out.get(2).getString(4).contains("row 3"), out.get(2).getString(4));
        assertTrue(out.get(2).getString(4).contains("orphan text"), out.get(2).getString(4));
        assertNull(out.get(3).get(0));
        assertTrue(
                out.get(3).getString(4).contains("malformed input record"),
                out.get(3).getString(4));
        assertNull(out.get(4).get(4), "empty text embeds like HF ([CLS] [SEP]), it is not an error");
        assertNotNull(out.get(4).get(1));
        assertNull(out.get(5).get(4));
        assertTrue(out.get(6).getString(4).contains("column 'doc_id' is empty"));
    }

    @Test
    void failingBatchIsRetriedRowByRow() throws Exception {
        ScorePartitionFunction fn = new ScorePartitionFunction(ModelOptions.defaults(), "id", "text", 100, true);
        List<Row> out = run(
                fn,
                RowFactory.create("1", "one two", null),
                RowFactory.create("2", "POISON pill", null),
                RowFactory.create("3", "three", null));
        assertEquals(3, out.size());
        // score rows: id, n_tokens, nll, ppl, n_bytes, n_words, bits_per_byte, truncated, error, token_ids,
        // token_logprobs
        assertNull(out.get(0).get(8));
        assertEquals(2, out.get(0).getInt(1));
        assertEquals(3.0, out.get(0).getDouble(2), 1e-12);
        assertEquals(7L, out.get(0).getLong(4), "'one two' is 7 UTF-8 bytes");
        assertEquals(2L, out.get(0).getLong(5), "'one two' is 2 words");
        assertEquals(3.0 / Math.log(2) / 7, out.get(0).getDouble(6), 1e-12, "nll / ln 2 / n_bytes");
        assertFalse(out.get(0).getBoolean(7));
        assertArrayEquals(new int[] {1, 3, 4}, (int[]) out.get(0).get(9));
        assertEquals(2, ((float[]) out.get(0).get(10)).length);
        assertEquals(
                "row 2: IllegalArgumentException: poisoned text", out.get(1).getString(8));
        for (int col = 1; col <= 7; col++) assertNull(out.get(1).get(col), "an error row has no scores, column " + col);
        assertNull(out.get(2).get(8));
        assertEquals(OutputSchemas.score(true).size(), out.get(0).length());
    }

    @Test
    void batchedCallsChecksResultCount() {
        List<Outcome<Integer>> r = BatchedCalls.run(
                List.of("a", "bb"),
                texts -> texts.size() == 2 ? List.of(1) : List.of(texts.get(0).length()));
        assertEquals(List.of(Outcome.ok(1), Outcome.ok(2)), r);
    }
}
