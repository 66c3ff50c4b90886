package attnspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import attnspark.checkpoint.CheckpointException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.spark.SparkException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every failed CLI run ends with one stderr line, {@code attnspark <cmd>: failed: <root cause>},
 * and exit 1 (as the README documents), even when the cause is a task's exception wrapped in a
 * SparkException; the stack trace only with --verbose. The CLI runs in-process here, with a
 * broken model loaded inside a Spark task as in production. The timeout is a hang guard.
 */
class FailureLineTest {
    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {}

    Run score(Path model, String... extra) throws Exception {
        Path input = Files.writeString(
                tmp.resolve("in.jsonl"), "{\"id\":\"a\",\"text\":\"hello\"}\n{\"id\":\"b\",\"text\":\"world\"}\n");
        String[] base = {
            "--input",
            input.toString(),
            "--output",
            tmp.resolve("out").toString(),
            "--model",
            model.toString(),
            "--master",
            "local[1]"
        };
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = assertTimeoutPreemptively(
                Duration.ofSeconds(120),
                () -> JobRunner.main(
                        JobSpec.Command.SCORE, args, new PrintStream(out, true), new PrintStream(err, true)));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** config.json as given plus a valid, empty safetensors file: the config is what fails. */
    Path model(String name, String config) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.writeString(dir.resolve("config.json"), config);
        byte[] header = "{}".getBytes(StandardCharsets.UTF_8);
        Files.write(
                dir.resolve("model.safetensors"),
                ByteBuffer.allocate(8 + header.length)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .putLong(header.length)
                        .put(header)
                        .array());
        return dir;
    }

    static final String LLAMA =
            "{\"model_type\":\"llama\",\"vocab_size\":50,\"hidden_size\":16,\"intermediate_size\":40,"
                    + "\"num_attention_heads\":4,\"num_hidden_layers\":%s}";

    @Test
    void aModelFailingInsideATaskEndsInOneLineNamingFileAndField() throws Exception {
        Path dir = model("fraction", String.format(LLAMA, "5.9"));
        Run r = score(dir);
        assertEquals(JobRunner.EXIT_FAILED, r.code, r.err);
        String line = r.err.strip();
        assertFalse(line.contains("\n"), "one line: " + r.err);
        assertTrue(
                line.startsWith("attnspark score: failed: " + dir.resolve("config.json")
                        + ": field 'num_hidden_layers' = 5.9 must be a whole number"),
                line);
        assertFalse(r.err.contains("\tat ") || r.err.contains("Exception in thread"), r.err);
    }

    @Test
    void aFifoWhereTheWeightsBelongFailsAtOnce() throws Exception {
        Path dir = model("fifo", String.format(LLAMA, "2"));
        Files.delete(dir.resolve("model.safetensors"));
        assertEquals(
                0,
                new ProcessBuilder("mkfifo", dir.resolve("model.safetensors").toString())
                        .start()
                        .waitFor());
        Run r = score(dir);
        assertEquals(JobRunner.EXIT_FAILED, r.code, r.err);
        assertEquals(
                "attnspark score: failed: " + dir.resolve("model.safetensors")
                        + ": safetensors file is a FIFO, socket, device"
                        + " or a link to one, not a regular file; only regular files are read as model files. Replace it with the real file.",
                r.err.strip());
    }

    @Test
    void verbosePrintsTheStackTraceAfterTheLine() throws Exception {
        Path dir = model("verbose", String.format(LLAMA, "-1"));
        Run r = score(dir, "--verbose");
        assertEquals(JobRunner.EXIT_FAILED, r.code, r.err);
        assertTrue(
                r.err.startsWith("attnspark score: failed: " + dir.resolve("config.json")
                        + ": field 'num_hidden_layers' = -1 must be >= 1"),
                r.err);
        assertTrue(r.err.contains("\tat "), "--verbose shows the trace: " + r.err);
    }

    @Test
    void theRootCauseIsFoundInsideSparksWrappers() {
        CheckpointException cause = new CheckpointException("/m/model.safetensors: tensor 'x' is bad");
        assertEquals(
                "/m/model.safetensors: tensor 'x' is bad",
                FailureMessage.of(
                        new SparkException("Job aborted due to stage failure: ... lots\n\tat a.b(C.java:1)", cause)));
        // a task exception Spark could not ship: only its text survives, inside the SparkException's message
        String sparkText =
                "Job aborted due to stage failure: Task 0 in stage 1.0 failed 1 times, most recent failure: Lost task 0.0"
                        + " in stage 1.0 (TID 1) (127.0.0.1 executor driver): attnspark.checkpoint.CheckpointException: /m/config.json: field"
                        + " 'x' = 0 must be >= 1\n\tat attnspark.load.Models.loadScorer(Models.java:80)\n\tat more.Frames(X.java:1)\n";
        assertEquals("/m/config.json: field 'x' = 0 must be >= 1", FailureMessage.of(new SparkException(sparkText)));
        String written =
                "Job aborted due to stage failure: Task 0 in stage 2.0 failed 1 times, most recent failure: Lost task 0.0 in"
                        + " stage 2.0 (TID 2) (10.0.0.1 executor 1): org.apache.spark.SparkException: [TASK_WRITE_FAILED] Task failed while"
                        + " writing rows to file:/out.\n\tat x.Y(Z.java:1)\nCaused by: attnspark.checkpoint.CheckpointException: /m/model.onnx:"
                        + " tensor 'w' has 8 bytes of raw_data\n\t... 17 more\n";
        assertEquals(
                "/m/model.onnx: tensor 'w' has 8 bytes of raw_data", FailureMessage.of(new SparkException(written)));
        assertEquals("OutOfMemoryError: Java heap space", FailureMessage.of(new OutOfMemoryError("Java heap space")));
        String longMessage = "y".repeat(5000);
        String capped = FailureMessage.of(new IllegalArgumentException(longMessage));
        assertTrue(
                capped.length() < FailureMessage.MAX_CHARS + 100
                        && capped.endsWith("3000 more characters; --verbose shows all)"),
                capped);
    }
}
