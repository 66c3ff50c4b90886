package attnspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import attnspark.attention.dispatch.AttentionInterface;
import attnspark.job.JobSpec.Command;
import attnspark.udf.ModelReplicas;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Batch invariance at job level, as a property: a row's output (embedding; nll, ppl and per-token
 * log-probs) is the same bit for bit (Float.floatToRawIntBits, Double.doubleToRawLongBits)
 * whatever batch it lands in. For every built-in attention backend the job can run (from the
 * registry: embed skips paged|* names, which need a KV cache; names that need absent hardware
 * are skipped), a reference run (default --batch-tokens and --chunk-rows, one partition, input
 * order) is compared with runs under seeded random --batch-tokens (1 = a text per forward
 * batch), --chunk-rows, --partitions and a shuffled row order. Within every run, rows that
 * carry the same text under different ids (so they sit in different batches, next to
 * different texts with different padding) must have the same bits too. Embed uses the bundled
 * all-MiniLM-L6-v2, score stories260K (../shared).
 */
class BatchInvarianceJobTest {
    private static final int VARIANT_RUNS = 1;
    private static final String[] WORDS = ("once upon a time there was a little girl named lily she loved to play "
                    + "outside in the sun one day saw big red ball park and ran get it her mom said be careful tom dog "
                    + "went with his friend they were happy cat tree bird sky blue water fish boat")
            .split(" ");

    static SparkSession spark;
    static Path stories;
    /** id -> text; ids "dupN-a"/"dupN-b" share a text. */
    static Map<String, String> corpus;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        stories = JobTesting.stories260k();
        spark = JobTesting.realModelSpark("batch-invariance-job");
        corpus = corpus(new Random(60));
    }

    @AfterAll
    static void stop() {
        JobTesting.stopRealModelSpark(spark);
    }

    /** ~60 rows: 1 to ~90 words, an empty text, and five texts each under two ids. */
    static Map<String, String> corpus(Random rnd) {
        Map<String, String> rows = new HashMap<>();
        for (int i = 0; i < 50; i++) {
            int words = i % 10 == 0 ? 60 + rnd.nextInt(30) : 1 + rnd.nextInt(24);
            StringBuilder sb = new StringBuilder();
            for (int w = 0; w < words; w++) sb.append(w == 0 ? "" : " ").append(WORDS[rnd.nextInt(WORDS.length)]);
            rows.put("t" + i, sb.append('.').toString());
        }
        rows.put("empty", "");
        for (int d = 0; d < 5; d++) {
            String text = rows.get("t" + (d * 7));
            rows.put("dup" + d + "-a", text);
            rows.put("dup" + d + "-b", text);
        }
        return rows;
    }

    /** The backends the job runs on this machine: the registry's, less GPU-only ones (and paged|* for embedding). */
    static List<String> backends(Command c) {
        List<String> names = new ArrayList<>();
        for (String name : AttentionInterface.BUILT_IN) {
            if (AttentionInterface.ALL.get(name) instanceof AttentionInterface.Unavailable) continue;
            if (c == Command.EMBED && name.startsWith("paged|")) continue;
            names.add(name);
        }
        Collections.sort(names);
        return names;
    }

    /** What a run changes: batch token budget, texts per model call, partitions and the input's row order. */
    record Batching(Integer batchTokens, Integer chunkRows, int partitions, long orderSeed) {
        static final Batching REFERENCE = new Batching(null, null, 1, -1);

        static Batching random(Random rnd) {
            int[] budgets = {1, 24, 97, 256, 1000, 5000};
            return new Batching(
                    budgets[rnd.nextInt(budgets.length)], 1 + rnd.nextInt(40), 1 + rnd.nextInt(4), rnd.nextLong());
        }

        List<String> args() {
            List<String> a = new ArrayList<>(List.of("--partitions", String.valueOf(partitions)));
            if (batchTokens != null) a.addAll(List.of("--batch-tokens", batchTokens.toString()));
            if (chunkRows != null) a.addAll(List.of("--chunk-rows", chunkRows.toString()));
            return a;
        }
    }

    /** The corpus as JSON lines, sorted by id or shuffled by the batching's seed. */
    static Path input(Batching b) throws Exception {
        List<String> ids = new ArrayList<>(corpus.keySet());
        Collections.sort(ids);
        if (b.orderSeed() != -1) Collections.shuffle(ids, new Random(b.orderSeed()));
        ObjectMapper json = new ObjectMapper();
        StringBuilder sb = new StringBuilder();
        for (String id : ids)
            sb.append(json.writeValueAsString(Map.of("id", id, "text", corpus.get(id))))
                    .append('\n');
        Path p = Files.createTempFile(tmp, "in", ".jsonl");
        Files.writeString(p, sb.toString());
        return p;
    }

    static Map<String, Row> run(Command c, String attn, Batching b, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of(
                "--input",
                input(b).toString(),
                "--output",
                Files.createTempDirectory(tmp, "out").resolve("o").toString(),
                "--attn",
                attn));
        args.addAll(b.args());
        args.addAll(List.of(extra));
        JobSpec spec = JobSpec.parse(c, args.toArray(String[]::new));
        JobRunner.run(spark, spec);
        Map<String, Row> byId = new HashMap<>();
        for (Row r : JobRunner.readOutput(spark, spec).collectAsList()) byId.put(r.getString(r.fieldIndex("id")), r);
        assertEquals(corpus.keySet(), byId.keySet(), "one output row per input row");
        return byId;
    }

    @Test
    void embeddingBitsDoNotDependOnTheBatch() throws Exception {
        Random rnd = new Random(6);
        for (String attn : backends(Command.EMBED)) {
            Map<String, Row> reference = run(Command.EMBED, attn, Batching.REFERENCE);
            assertDuplicatesAgree(reference, attn + " reference", "embedding");
            for (int v = 0; v < VARIANT_RUNS; v++) {
                Batching b = Batching.random(rnd);
                Map<String, Row> got = run(Command.EMBED, attn, b);
                assertDuplicatesAgree(got, attn + " " + b, "embedding");
                for (String id : corpus.keySet()) {
                    assertSameBits(reference.get(id), got.get(id), attn + " " + b + " row " + id, "embedding");
                }
            }
            ModelReplicas.closeAll(); // each budget loaded its own MiniLM replica
        }
    }

    @Test
    void scoreBitsDoNotDependOnTheBatch() throws Exception {
        Random rnd = new Random(7);
        String model = stories.toString();
        for (String attn : backends(Command.SCORE)) {
            Map<String, Row> reference = run(Command.SCORE, attn, Batching.REFERENCE, "--model", model, "--per-token");
            assertDuplicatesAgree(reference, attn + " reference", "nll", "ppl", "token_ids", "token_logprobs");
            for (int v = 0; v < VARIANT_RUNS; v++) {
                Batching b = Batching.random(rnd);
                Map<String, Row> got = run(Command.SCORE, attn, b, "--model", model, "--per-token");
                assertDuplicatesAgree(got, attn + " " + b, "nll", "ppl", "token_ids", "token_logprobs");
                for (String id : corpus.keySet()) {
                    assertSameBits(
                            reference.get(id),
                            got.get(id),
                            attn + " " + b + " row " + id,
                            "nll",
                            "ppl",
                            "token_ids",
                            "token_logprobs");
                }
            }
        }
    }

    /** dupN-a and dupN-b hold one text; they went through different batches, so they test invariance within a run. */
    static void assertDuplicatesAgree(Map<String, Row> rows, String what, String... columns) {
        for (int d = 0; d < 5; d++) {
            assertSameBits(rows.get("dup" + d + "-a"), rows.get("dup" + d + "-b"), what + " dup" + d, columns);
        }
    }

    /** The model's output columns, and n_tokens and error, bit for bit; a row with an error fails (none is expected). */
    static void assertSameBits(Row want, Row got, String what, String... columns) {
        assertNull(want.getAs("error"), what + ": " + want.getAs("error"));
        assertNull(got.getAs("error"), what + ": " + got.getAs("error"));
        assertEquals((Integer) want.getAs("n_tokens"), (Integer) got.getAs("n_tokens"), what + " n_tokens");
        for (String col : columns) {
            Object a = want.getAs(col), b = got.getAs(col);
            if (a instanceof Double x && b instanceof Double y) {
                if (Double.doubleToRawLongBits(x) != Double.doubleToRawLongBits(y))
                    fail(what + " " + col + ": " + x + " vs " + y);
            } else if (a instanceof scala.collection.Seq<?> && b instanceof scala.collection.Seq<?>) {
                List<Object> la = want.getList(want.fieldIndex(col)), lb = got.getList(got.fieldIndex(col));
                assertEquals(la.size(), lb.size(), what + " " + col + " length");
                for (int i = 0; i < la.size(); i++) {
                    if (la.get(i) instanceof Float x && lb.get(i) instanceof Float y) {
                        if (Float.floatToRawIntBits(x) != Float.floatToRawIntBits(y))
                            fail(what + " " + col + "[" + i + "]: " + x + " vs " + y);
                    } else {
                        assertEquals(la.get(i), lb.get(i), what + " " + col + "[" + i + "]");
                    }
                }
            } else {
                assertTrue(a == null && b == null, what + " " + col + ": " + a + " vs " + b);
            }
        }
    }
}
