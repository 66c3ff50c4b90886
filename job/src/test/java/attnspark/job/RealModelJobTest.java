package attnspark.job;

import static attnspark.job.JobTesting.embedSpec;
import static attnspark.job.JobTesting.scoreSpec;
import static org.junit.jupiter.api.Assertions.*;

import attnspark.api.ModelOptions;
import attnspark.api.ScoreResult;
import attnspark.api.TextScorer;
import attnspark.load.Models;
import attnspark.tokenizer.TextTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end with the REAL models (replica factory = {@link Models}): the bundled
 * all-MiniLM-L6-v2 for embed, shared/models/stories260k for score, whose nll is compared with
 * the float64 reference in shared/models/stories260k/golden/prompts.jsonl.
 */
class RealModelJobTest {
    static SparkSession spark;
    static Path stories;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        stories = JobTesting.stories260k();
        spark = JobTesting.realModelSpark("real-model-test");
    }

    @AfterAll
    static void stop() {
        JobTesting.stopRealModelSpark(spark);
    }

    @Test
    void embedWithBundledMiniLM() throws Exception {
        Path in = tmp.resolve("pairs.jsonl");
        Files.writeString(
                in,
                String.join(
                                "\n",
                                "{\"id\":\"cat1\",\"text\":\"A cat is sleeping on the sofa.\"}",
                                "{\"id\":\"cat2\",\"text\":\"A kitten naps on the couch.\"}",
                                "{\"id\":\"tax\",\"text\":\"Quarterly tax filings are due at the end of the month.\"}",
                                "{\"id\":\"bad\",\"text\":null}",
                                "{\"id\":\"long\",\"text\":\"" + "word ".repeat(600) + "\"}")
                        + "\n");
        String out = tmp.resolve("emb").toString();
        JobSummary sum = JobRunner.run(spark, embedSpec(in.toString(), out));
        assertEquals(5, sum.rows());
        assertEquals(1, sum.errors());
        Map<String, Row> m = new HashMap<>();
        for (Row r : spark.read().parquet(out).collectAsList()) {
            m.put(r.getString(0), r);
        }
        List<Float> c1 = m.get("cat1").getList(1),
                c2 = m.get("cat2").getList(1),
                t = m.get("tax").getList(1);
        assertEquals(384, c1.size());
        assertEquals(
                1.0, Math.sqrt(c1.stream().mapToDouble(x -> x * x).sum()), 1e-3, "MiniLM vectors are L2-normalised");
        assertTrue(
                JobTesting.cos(c1, c2) > JobTesting.cos(c1, t) + 0.2,
                "paraphrases closer than unrelated: " + JobTesting.cos(c1, c2) + " vs " + JobTesting.cos(c1, t));
        assertTrue(m.get("long").getBoolean(3), "600 words exceed MiniLM's 256 tokens");
        assertEquals(256, m.get("long").getInt(2));
        assertFalse(m.get("cat1").getBoolean(3));
    }

    @Test
    void scoreStories260kMatchesGolden() throws Exception {
        ObjectMapper json = new ObjectMapper();
        Path golden = stories.resolve("golden/prompts.jsonl");
        Map<String, JsonNode> expected = new HashMap<>();
        List<String> lines = new ArrayList<>();
        for (String line : Files.readAllLines(golden)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode n = json.readTree(line);
            expected.put(n.get("name").asText(), n);
            lines.add(json.writeValueAsString(
                    Map.of("id", n.get("name").asText(), "text", n.get("text").asText())));
        }
        // one document longer than the model's 512 positions: truncated and flagged, still scored
        lines.add(json.writeValueAsString(
                Map.of("id", "too-long", "text", "Once upon a time there was a cat. ".repeat(120))));
        Path in = tmp.resolve("golden.jsonl");
        Files.writeString(in, String.join("\n", lines) + "\n");
        String out = tmp.resolve("scores").toString();
        JobSummary sum = JobRunner.run(
                spark, scoreSpec(in.toString(), out, stories.toString(), "--per-token", "--format", "jsonl"));
        assertEquals(expected.size() + 1, sum.rows());
        assertEquals(0, sum.errors());
        for (Row r : JobRunner.readOutput(spark, scoreSpec(in.toString(), out, "m", "--per-token", "--format", "jsonl"))
                .collectAsList()) {
            assertNull(r.getAs("error"));
            if (r.getString(0).equals("too-long")) {
                assertTrue((Boolean) r.getAs("truncated"));
                assertEquals(511, r.getInt(1), "512 positions: BOS + 511 scored tokens");
                assertEquals(
                        34L * 120, (long) r.<Long>getAs("n_bytes"), "the whole text's bytes, not the truncated part's");
                assertNull(r.getAs("bits_per_byte"), "a truncated document's nll does not cover its bytes");
                continue;
            }
            assertFalse((Boolean) r.getAs("truncated"));
            JsonNode g = expected.get(r.getString(0));
            // independent of attnspark.api.TextStats: Java's own UTF-8 encoder and regex split (the
            // golden texts have only ASCII whitespace, where Java's \s is Python's)
            String text = g.get("text").asText();
            long bytes = text.getBytes(StandardCharsets.UTF_8).length;
            assertEquals(bytes, (long) r.<Long>getAs("n_bytes"), r.getString(0) + " n_bytes");
            assertEquals(
                    Pattern.compile("\\s+").split(text, -1).length,
                    (long) r.<Long>getAs("n_words"),
                    r.getString(0) + " n_words");
            assertEquals(
                    g.get("nll").asDouble() / Math.log(2) / bytes,
                    r.<Double>getAs("bits_per_byte"),
                    1e-4 * g.get("n_scored").asInt() / bytes,
                    r.getString(0) + " bits_per_byte");
            assertEquals(g.get("n_scored").asInt(), r.getInt(1), r.getString(0));
            double nll = g.get("nll").asDouble();
            assertEquals(nll, r.getDouble(2), 1e-4 * g.get("n_scored").asInt(), r.getString(0) + " nll");
            assertEquals(
                    g.get("ppl").asDouble(), r.getDouble(3), 1e-3 * g.get("ppl").asDouble(), r.getString(0) + " ppl");
            List<Integer> ids = r.getList(r.fieldIndex("token_ids"));
            List<Integer> gIds = new ArrayList<>();
            g.get("ids").forEach(x -> gIds.add(x.asInt()));
            assertEquals(gIds, ids, r.getString(0) + " token ids");
            List<Float> lps = r.getList(r.fieldIndex("token_logprobs"));
            JsonNode gl = g.get("token_logprobs");
            assertEquals(gl.size(), lps.size());
            for (int i = 0; i < lps.size(); i++) {
                assertEquals(gl.get(i).asDouble(), lps.get(i), 1e-4, r.getString(0) + " token " + i);
            }
        }
        // the README's corpus-level query, against the same sums taken over the golden file
        double nll = 0, bytes = 0, words = 0, tokens = 0;
        for (JsonNode g : expected.values()) {
            String text = g.get("text").asText();
            nll += g.get("nll").asDouble();
            tokens += g.get("n_scored").asInt();
            bytes += text.getBytes(StandardCharsets.UTF_8).length;
            words += Pattern.compile("\\s+").split(text, -1).length;
        }
        JobRunner.readOutput(spark, scoreSpec(in.toString(), out, "m", "--per-token", "--format", "jsonl"))
                .createOrReplaceTempView("scores");
        Row corpus = spark.sql("SELECT SUM(nll) / LN(2) / SUM(n_bytes) AS bits_per_byte,"
                        + " EXP(SUM(nll) / SUM(n_bytes)) AS byte_perplexity, EXP(SUM(nll) / SUM(n_words)) AS word_perplexity"
                        + " FROM scores WHERE error IS NULL AND NOT truncated")
                .first();
        double nllTol = 1e-4 * tokens; // the per-token tolerance above, summed
        assertEquals(
                nll / Math.log(2) / bytes, corpus.getDouble(0), nllTol / Math.log(2) / bytes, "corpus bits per byte");
        assertEquals(
                Math.exp(nll / bytes),
                corpus.getDouble(1),
                Math.exp(nll / bytes) * 2 * nllTol / bytes,
                "byte perplexity");
        assertEquals(
                Math.exp(nll / words),
                corpus.getDouble(2),
                Math.exp(nll / words) * 2 * nllTol / words,
                "word perplexity");
    }

    @Test
    void slidingWindowScoringReadsWholeLongDocuments() throws Exception {
        String text = "Once upon a time there was a cat. ".repeat(120); // > 512 tokens
        Path in = tmp.resolve("long.jsonl");
        Files.writeString(
                in,
                new ObjectMapper().writeValueAsString(Map.of("id", "long", "text", text)) + "\n"
                        + new ObjectMapper().writeValueAsString(Map.of("id", "short", "text", "Once upon a time"))
                        + "\n");
        int nIds;
        try (TextTokenizer tok = new TextTokenizer(stories.resolve("tokenizer.json"), 1 << 20)) {
            nIds = tok.encode(text).ids().length;
        }
        assertTrue(nIds > 512);
        // each way of reading a document longer than the model's 512 positions, through the CLI options
        // (--window/--stride alone is --mode hf-strided: JobSpecTest.scoringModes)
        List<List<String>> ways = List.of(
                List.of("--window", "128", "--stride", "64"),
                List.of("--mode", "lm-eval-rolling", "--window", "128"),
                List.of("--attention-chunk", "256"));
        for (List<String> way : ways) {
            String out =
                    tmp.resolve("long-" + String.join("", way).replace("-", "")).toString();
            List<String> options = new ArrayList<>(List.of("--format", "jsonl"));
            options.addAll(way);
            JobSummary sum = JobRunner.run(
                    spark, scoreSpec(in.toString(), out, stories.toString(), options.toArray(String[]::new)));
            assertEquals(0, sum.errors(), way.toString());
            Map<String, Row> m = new HashMap<>();
            for (Row r : JobRunner.readOutput(spark, scoreSpec(in.toString(), out, "m", "--format", "jsonl"))
                    .collectAsList()) m.put(r.getString(0), r);
            assertEquals(nIds - 1, m.get("long").getInt(1), way + ": every token after BOS is scored, none truncated");
            assertFalse((Boolean) m.get("long").getAs("truncated"), way.toString());
            assertNotNull(m.get("long").getAs("bits_per_byte"), way + ": whole documents have bits per byte");
            assertEquals(
                    0.27409037459655033,
                    m.get("short").getDouble(2),
                    1e-4,
                    way + ": short documents fit one window: golden nll");
        }
    }

    /** An --attention-chunk the model cannot bound fails the job (not each row) with the modes that read long documents. */
    @Test
    void attentionChunkBeyondTheModelIsRefused() throws Exception {
        Path in = tmp.resolve("one.jsonl");
        Files.writeString(in, "{\"id\":\"a\",\"text\":\"Once upon a time\"}\n");
        Exception e = assertThrows(
                Exception.class,
                () -> JobRunner.run(
                        spark,
                        scoreSpec(
                                in.toString(),
                                tmp.resolve("chunk-1024").toString(),
                                stories.toString(),
                                "--attention-chunk",
                                "1024")));
        String msg = FailureMessage.of(e);
        assertTrue(
                msg.contains("--attention-chunk 1024 exceeds the model's 512 positions")
                        && msg.contains("--mode hf-strided")
                        && msg.contains("--mode lm-eval-rolling"),
                msg);
    }

    /** The public API the job uses: the bundled embedder's width, and a scorer that reproduces a shared golden. */
    @Test
    void modelsApiLoadsModelsThatComputeTheGoldens() throws Exception {
        assertEquals(384, Models.loadEmbedder(ModelOptions.defaults()).dimension());
        JsonNode golden = new ObjectMapper()
                .readTree(Files.readAllLines(stories.resolve("golden/prompts.jsonl"))
                        .get(0));
        try (TextScorer scorer = Models.loadScorer(ModelOptions.defaults().withModelDir(stories.toString()))) {
            ScoreResult r =
                    scorer.score(List.of(golden.get("text").asText()), true).get(0);
            assertEquals(golden.get("n_scored").asInt(), r.nTokens());
            assertEquals(golden.get("nll").asDouble(), r.nll(), 1e-4 * r.nTokens(), "nll of the golden prompt");
        }
    }
}
