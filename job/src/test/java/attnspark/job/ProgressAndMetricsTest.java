package attnspark.job;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.job.JobSpec.Command;
import attnspark.udf.FakeModels;
import attnspark.udf.LocalSpark;
import attnspark.udf.ModelReplicas;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Progress lines on stderr while a job runs (the model slowed down by a test hook), and the
 * metrics file checked against the committed output.
 */
class ProgressAndMetricsTest {
    static SparkSession spark;
    /** Milliseconds each model call sleeps. */
    static volatile long slowMs;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        ModelReplicas.setFactoryForTests(FakeModels.watchingEmbeds(texts -> {
            try {
                Thread.sleep(slowMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        spark = LocalSpark.builder("progress-test")
                // running tasks report their counts with each heartbeat: make them frequent
                .config("spark.executor.heartbeatInterval", "500ms")
                .getOrCreate();
    }

    @AfterAll
    static void stop() {
        spark.stop();
        ModelReplicas.setFactoryForTests(null);
    }

    static final Pattern LINE =
            Pattern.compile("attnspark embed: progress rows=(\\d+)/200 \\([0-9.]+%\\) tasks=\\d+/\\d+"
                    + " tokens/s=\\d+ rows/s=[0-9.]+ elapsed=\\d:\\d\\d:\\d\\d eta=(\\d:\\d\\d:\\d\\d|\\?)");

    @Test
    void progressLinesWhileASlowJobRuns() throws Exception {
        Path in = tmp.resolve("slow.jsonl");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            sb.append("{\"id\":\"")
                    .append(i)
                    .append("\",\"text\":\"word number ")
                    .append(i)
                    .append("\"}\n");
        }
        Files.writeString(in, sb);
        slowMs = 300; // 2 partitions x 10 chunks of 10 rows x 300 ms: about 3 s per partition
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        JobSummary sum;
        try (PrintStream ps = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            sum = JobRunner.run(
                    spark,
                    JobSpec.parse(
                            Command.EMBED,
                            "--input",
                            in.toString(),
                            "--output",
                            tmp.resolve("slow-out").toString(),
                            "--chunk-rows",
                            "10",
                            "--partitions",
                            "2",
                            "--progress-interval",
                            "1"),
                    ps);
        } finally {
            slowMs = 0;
        }
        assertEquals(200, sum.rows());
        List<String> lines = err.toString(StandardCharsets.UTF_8).lines().toList();
        List<Long> rows = new ArrayList<>();
        for (String l : lines) {
            Matcher m = LINE.matcher(l);
            assertTrue(m.matches(), "not a progress line: " + l);
            rows.add(Long.parseLong(m.group(1)));
        }
        assertTrue(lines.size() >= 3, "a 3 s job printing every second gave " + lines.size() + " lines: " + lines);
        assertEquals(200L, rows.get(rows.size() - 1), "the last line: every row");
        for (int i = 1; i < rows.size(); i++) {
            assertTrue(rows.get(i) >= rows.get(i - 1), "rows never go back: " + rows);
        }
        assertTrue(rows.stream().anyMatch(r -> r > 0 && r < 200), "rows counted while tasks run: " + rows);
    }

    @Test
    void metricsFileMatchesTheOutput() throws Exception {
        // one partition, one chunk, --batch-tokens 10: the fake model's lengths (words + 2) are
        // 5, 4, 3 -> batches [5, 4] (10 padded slots) and [3] (3): tokens 12, padded 13
        Path in = tmp.resolve("m.jsonl");
        Files.writeString(
                in,
                String.join(
                                "\n",
                                "{\"id\":\"a\",\"text\":\"one two three\"}",
                                "{\"id\":\"b\",\"text\":\"one two\"}",
                                "{\"id\":\"c\",\"text\":\"one\"}",
                                "{\"id\":\"d\",\"text\":null}")
                        + "\n");
        String out = tmp.resolve("m-out").toString();
        // --partitions 1: a small input is otherwise spread over the task slots (TaskSlots), which changes the batches
        JobSpec spec = JobSpec.parse(
                Command.EMBED, "--input", in.toString(), "--output", out, "--batch-tokens", "10", "--partitions", "1");
        JobSummary sum = JobRunner.run(spark, spec);
        JsonNode m = new ObjectMapper()
                .readTree(Path.of(out, "_attnspark_metrics.json").toFile());
        Row agg = spark.read()
                .parquet(out)
                .agg(
                        functions.count(functions.lit(1)),
                        functions.count(functions.col("error")),
                        functions.sum("n_tokens"))
                .first();
        assertEquals("embed", m.get("command").asText());
        assertEquals(4, agg.getLong(0));
        assertEquals(agg.getLong(0), m.get("rows").asLong());
        assertEquals(agg.getLong(1), m.get("errors").asLong());
        assertEquals(1, m.get("errors").asLong());
        assertEquals(agg.getLong(2), m.get("tokens").asLong());
        assertEquals(12, m.get("tokens").asLong());
        assertEquals(13, m.get("padded_tokens").asLong());
        assertEquals(12.0 / 13, m.get("padding_efficiency").asDouble(), 1e-12);
        assertEquals(sum.seconds(), m.get("seconds").asDouble(), 1e-9);
        assertEquals(12 / sum.seconds(), m.get("tokens_per_second").asDouble(), 1e-6);
        JsonNode loads = m.get("model_load_seconds");
        assertTrue(loads.isObject() && loads.size() <= 1, loads.toString());
        assertTrue(m.get("output").asText().endsWith("m-out"), m.get("output").asText());
        assertEquals(4, spark.read().parquet(out).count(), "Spark's reader skips the metrics file");
    }
}
