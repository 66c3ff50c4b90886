package attnspark.job;

import static attnspark.job.PartitionedOutputTest.assertSameBytes;
import static attnspark.job.PartitionedOutputTest.hiddenLeftovers;
import static attnspark.job.PartitionedOutputTest.snapshot;
import static org.junit.jupiter.api.Assertions.*;

import attnspark.job.JobSpec.Command;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real driver SIGKILL: {@code ScoreJob} (stories260K) re-running partition date=2026-12-02
 * runs as a child JVM with this test's class path and is killed with {@code kill -9} while Spark
 * writes its staging directory, between the two renames of the swap (held there by the
 * {@link OutputSwap#PAUSE_MID_SWAP_MS} hook), and at a random moment. After each kill the previous
 * content of the partition is complete and byte-identical (after the recovery every run starts
 * with, when the kill came mid-swap), the other partition is untouched, and a last re-run completes.
 */
class DriverKillTest {
    static SparkSession spark;
    static final Path SAMPLES =
            Path.of(System.getProperty("user.dir")).getParent().resolve("datasets/sample");

    @TempDir
    static Path tmp;

    static Path model;
    static Path out;
    static Path rerunInput;

    @BeforeAll
    static void previousContent() throws IOException {
        model = JobTesting.sharedDir().resolve("models/stories260k");
        List<String> docs = Files.readAllLines(SAMPLES.resolve("docs.jsonl"));
        Path a = Files.write(tmp.resolve("a.jsonl"), docs.subList(0, 10));
        Path b = Files.write(tmp.resolve("b.jsonl"), docs.subList(10, 20));
        rerunInput = Files.write(tmp.resolve("c.jsonl"), docs.subList(20, 60));
        out = tmp.resolve("table");
        spark = JobTesting.localSpark("driver-kill-test");
        for (String[] p : new String[][] {{a.toString(), "date=2026-12-01"}, {b.toString(), "date=2026-12-02"}}) {
            JobRunner.run(
                    spark,
                    JobSpec.parse(
                            Command.SCORE,
                            "--input",
                            p[0],
                            "--output",
                            out.toString(),
                            "--model",
                            model.toString(),
                            "--partition",
                            p[1]));
        }
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** Starts the re-run of date=2026-12-02 in a child JVM; {@code hooks} are extra -D options. */
    static Process startRerun(Path log, String... hooks) throws Exception {
        List<String> cmd = new ArrayList<>(
                List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g"));
        cmd.addAll(ConfConsistencyTest.opens());
        cmd.addAll(List.of(
                "-Dspark.ui.enabled=false",
                "-Dspark.driver.host=127.0.0.1",
                "-Dspark.driver.bindAddress=127.0.0.1",
                "-Dspark.sql.shuffle.partitions=2"));
        cmd.addAll(List.of(hooks));
        cmd.addAll(List.of(
                "-cp",
                System.getProperty("java.class.path"),
                ScoreJob.class.getName(),
                "--input",
                rerunInput.toString(),
                "--output",
                out.toString(),
                "--model",
                model.toString(),
                "--partition",
                "date=2026-12-02",
                "--partitions",
                "4",
                "--master",
                "local[2]"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1"); // loopback only
        return pb.start();
    }

    /**
     * Polls (every 5 ms) until something under OUTPUT matches, or the child ends; true when it matched.
     * The deadline is generous: a child JVM starting Spark on a loaded 2-core machine can take minutes.
     */
    static boolean awaitOutput(Process child, Predicate<String> match) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(900);
        while (System.nanoTime() < deadline && child.isAlive()) {
            try (Stream<Path> s = Files.walk(out, 3)) {
                if (s.map(p -> out.relativize(p).toString()).anyMatch(match)) {
                    return true;
                }
            } catch (IOException | UncheckedIOException e) {
                // a directory renamed or deleted while walked: look again
            }
            Thread.sleep(5);
        }
        return false;
    }

    static void kill9(Process child) throws Exception {
        assertEquals(
                0,
                new ProcessBuilder("kill", "-9", Long.toString(child.pid()))
                        .start()
                        .waitFor());
        assertTrue(child.waitFor(60, TimeUnit.SECONDS));
        assertEquals(137, child.exitValue(), "killed by SIGKILL");
    }

    static String tail(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    }

    @Test
    void killedDriverLeavesThePreviousPartition() throws Exception {
        Path target = out.resolve("date=2026-12-02");
        Map<String, byte[]> before = snapshot(target);
        Map<String, byte[]> other = snapshot(out.resolve("date=2026-12-01"));

        // 1. kill -9 while Spark writes the staging directory (its _temporary exists only then)
        Path log = tmp.resolve("kill-during-write.log");
        Process child = startRerun(log);
        try {
            assertTrue(
                    awaitOutput(
                            child,
                            p -> p.startsWith(".date=2026-12-02.attnspark-staging-") && p.endsWith("/_temporary")),
                    "the child never wrote its staging directory:\n" + tail(log));
            kill9(child);
        } finally {
            child.destroyForcibly();
        }
        assertSameBytes(before, snapshot(target));
        assertSameBytes(other, snapshot(out.resolve("date=2026-12-01")));
        assertEquals(20, spark.read().parquet(out.toString()).count(), "the table stays readable with both partitions");

        // 2. kill -9 between the two renames: the previous content is aside, complete; the next run puts it back
        log = tmp.resolve("kill-mid-swap.log");
        child = startRerun(log, "-D" + OutputSwap.PAUSE_MID_SWAP_MS + "=600000");
        try {
            assertTrue(
                    awaitOutput(child, p -> p.startsWith(".date=2026-12-02.attnspark-old-") && !p.contains("/")),
                    "the child never reached the swap:\n" + tail(log));
            kill9(child);
        } finally {
            child.destroyForcibly();
        }
        Path aside;
        try (Stream<Path> s = Files.list(out)) {
            aside = s.filter(p -> p.getFileName().toString().startsWith(".date=2026-12-02.attnspark-old-"))
                    .findFirst()
                    .orElseThrow();
        }
        assertFalse(Files.exists(target), "killed between the renames");
        assertSameBytes(before, snapshot(aside));
        OutputSwap.recover(
                JobRunner.fileSystem(spark, new org.apache.hadoop.fs.Path(out.toUri())),
                new org.apache.hadoop.fs.Path(target.toUri()));
        assertSameBytes(before, snapshot(target));
        assertEquals(List.of(), hiddenLeftovers(out));

        // 3. kill -9 at a random moment: the partition is the previous content, or (killed after the swap) the complete
        // new one
        long seed = System.nanoTime();
        long delayMs = new Random(seed).nextInt(15_000);
        log = tmp.resolve("kill-random.log");
        child = startRerun(log);
        try {
            if (!child.waitFor(delayMs, TimeUnit.MILLISECONDS)) {
                kill9(child);
            }
        } finally {
            child.destroyForcibly();
        }
        OutputSwap.recover(
                JobRunner.fileSystem(spark, new org.apache.hadoop.fs.Path(out.toUri())),
                new org.apache.hadoop.fs.Path(target.toUri()));
        Map<String, byte[]> now = snapshot(target);
        if (now.keySet().equals(before.keySet())) {
            assertSameBytes(before, now);
        } else {
            assertEquals(
                    40,
                    spark.read().parquet(target.toString()).count(),
                    "killed after " + delayMs + " ms (seed " + seed
                            + "): neither the old nor a complete new partition");
        }
        assertSameBytes(other, snapshot(out.resolve("date=2026-12-01")));

        // 4. a re-run after all that completes and replaces exactly that partition
        log = tmp.resolve("rerun.log");
        child = startRerun(log);
        try {
            assertTrue(child.waitFor(900, TimeUnit.SECONDS), "re-run did not finish:\n" + tail(log));
            assertEquals(0, child.exitValue(), tail(log));
        } finally {
            child.destroyForcibly();
        }
        Dataset<Row> table = spark.read().parquet(out.toString());
        assertEquals(40, table.where("date = DATE'2026-12-02'").count());
        assertEquals(
                40,
                table.where("date = DATE'2026-12-02' AND error IS NULL")
                        .select("id")
                        .distinct()
                        .count());
        assertEquals(10, table.where("date = DATE'2026-12-01'").count());
        assertSameBytes(other, snapshot(out.resolve("date=2026-12-01")));
        assertEquals(List.of(), hiddenLeftovers(out));
    }
}
