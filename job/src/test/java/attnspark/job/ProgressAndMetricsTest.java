package attnspark.job;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.job.JobSpec.Command;
import attnspark.udf.FakeModels;
import attnspark.udf.LocalSpark;
import attnspark.udf.ModelReplicas;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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

    /** A JSON lines input of {@code rows} rows: ids 0, 1, ..., texts "word number i". */
    private static Path numberedRows(String name, int rows) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < rows; i++) {
            sb.append("{\"id\":\"")
                    .append(i)
                    .append("\",\"text\":\"word number ")
                    .append(i)
                    .append("\"}\n");
        }
        return Files.writeString(tmp.resolve(name), sb);
    }

    /** The embed job with every model call sleeping {@code ms}; what it prints on stderr goes to {@code err}. */
    private static JobSummary runSlowly(long ms, ByteArrayOutputStream err, String... args) throws Exception {
        slowMs = ms;
        try (PrintStream ps = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            return JobRunner.run(spark, JobSpec.parse(Command.EMBED, args), ps);
        } finally {
            slowMs = 0;
        }
    }

    static final Pattern LINE =
            Pattern.compile("attnspark embed: progress rows=(\\d+)/200 \\([0-9.]+%\\) tasks=(\\d+)/(\\d+)"
                    + " tokens/s=\\d+ rows/s=[0-9.]+ elapsed=\\d:\\d\\d:\\d\\d eta=(\\d:\\d\\d:\\d\\d|\\?)");

    @Test
    void progressLinesWhileASlowJobRuns() throws Exception {
        Path in = numberedRows("slow.jsonl", 200);
        // 2 partitions x 10 chunks of 10 rows x 300 ms: about 3 s per partition
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        JobSummary sum = runSlowly(
                300,
                err,
                "--input",
                in.toString(),
                "--output",
                tmp.resolve("slow-out").toString(),
                "--chunk-rows",
                "10",
                "--partitions",
                "2",
                "--progress-interval",
                "1");
        assertEquals(200, sum.rows());
        List<String> all = err.toString(StandardCharsets.UTF_8).lines().toList();
        // the run ends with its timeline (JobTimeline), after the last progress line
        assertTrue(all.get(all.size() - 1).startsWith("attnspark embed: timeline "), "last line: " + all);
        List<String> lines = all.subList(0, all.size() - 1);
        List<Long> rows = new ArrayList<>();
        for (String l : lines) {
            Matcher m = LINE.matcher(l);
            assertTrue(m.matches(), "not a progress line: " + l);
            rows.add(Long.parseLong(m.group(1)));
        }
        assertTrue(lines.size() >= 3, "a 3 s job printing every second gave " + lines.size() + " lines: " + lines);
        assertEquals(200L, rows.get(rows.size() - 1), "the last line: every row");
        Matcher last = LINE.matcher(lines.get(lines.size() - 1));
        assertTrue(last.matches());
        assertEquals(last.group(3), last.group(2), "the last line: every task of the run done: " + lines);
        for (int i = 1; i < rows.size(); i++) {
            assertTrue(rows.get(i) >= rows.get(i - 1), "rows never go back: " + rows);
        }
        assertTrue(rows.stream().anyMatch(r -> r > 0 && r < 200), "rows counted while tasks run: " + rows);
    }

    @Test
    void timelineSplitsTheJobSecondsAtItsModelStage() throws Exception {
        // 3 partitions of 20 rows, 2 chunks of 10 rows each, every model call sleeping 250 ms: each
        // task takes >= 0.5 s, and 3 tasks on local[2]'s 2 slots run in two waves (stage >= 1 s)
        Path in = numberedRows("timeline.jsonl", 60);
        String out = tmp.resolve("timeline-out").toString();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        JobSummary sum = runSlowly(
                250,
                err,
                "--input",
                in.toString(),
                "--output",
                out,
                "--chunk-rows",
                "10",
                "--partitions",
                "3",
                "--progress-interval",
                "0");
        JsonNode t = new ObjectMapper()
                .readTree(Path.of(out, "_attnspark_metrics.json").toFile())
                .get("timeline");
        assertEquals(3, t.get("tasks").asInt(), t.toString());
        assertEquals(0, t.get("failed_tasks").asInt());
        assertEquals(2, t.get("slots").asInt());
        double before = t.get("before_model_stage_seconds").asDouble();
        double stage = t.get("model_stage_seconds").asDouble();
        double after = t.get("after_model_stage_seconds").asDouble();
        assertTrue(before >= 0 && after >= 0, t.toString());
        // task times are whole milliseconds of the same clock as the job's start: the parts add up
        assertEquals(sum.seconds(), before + stage + after, 0.002, t.toString());
        JsonNode tasks = t.get("task_seconds");
        assertTrue(tasks.get("shortest").asDouble() >= 0.5, "two 250 ms model calls per task: " + t);
        assertTrue(
                tasks.get("shortest").asDouble() <= tasks.get("median").asDouble()
                        && tasks.get("median").asDouble()
                                <= tasks.get("longest").asDouble(),
                t.toString());
        assertTrue(stage >= 1.0, "three tasks on two slots run in two waves: " + t);
        assertTrue(stage >= tasks.get("longest").asDouble(), t.toString());
        // three tasks: shortest + median + longest are all of their seconds, and the second wave's
        // lone task left a slot idle
        double busy = tasks.get("shortest").asDouble()
                + tasks.get("median").asDouble()
                + tasks.get("longest").asDouble();
        assertEquals(2 * stage - busy, t.get("idle_slot_seconds").asDouble(), 1e-9, t.toString());
        assertTrue(t.get("idle_slot_seconds").asDouble() > 0, t.toString());
        List<String> lines = err.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(1, lines.size(), "with progress off, the CLI prints just the timeline: " + lines);
        assertTrue(
                lines.get(0).startsWith("attnspark embed: timeline ")
                        && lines.get(0).contains(String.format(Locale.ROOT, " %.2f s in it (3 tasks of ", stage)),
                lines.get(0));
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
