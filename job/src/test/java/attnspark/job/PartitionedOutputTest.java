package attnspark.job;

import static attnspark.job.JobTesting.embedSpec;
import static org.junit.jupiter.api.Assertions.*;

import attnspark.job.JobSpec.Command;
import attnspark.udf.FakeModels;
import attnspark.udf.ModelReplicas;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --partition, the staged swap and --since/--until backfills on local[2] Spark with
 * {@link FakeModels} (the point is the output layout and its safety, not the model). Driver
 * kills in a child JVM are in {@link DriverKillTest}.
 */
class PartitionedOutputTest {
    static SparkSession spark;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        ModelReplicas.setFactoryForTests(new FakeModels());
        spark = JobTesting.localSpark("partition-test");
    }

    @AfterAll
    static void stop() {
        spark.stop();
        ModelReplicas.setFactoryForTests(null);
    }

    /** A JSON lines input of {@code n} rows with ids prefix-0..n-1. */
    static Path input(Path file, String prefix, int n) throws IOException {
        Files.createDirectories(file.getParent());
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append("{\"id\":\"")
                    .append(prefix)
                    .append('-')
                    .append(i)
                    .append("\",\"text\":\"words number ")
                    .append(i)
                    .append(" of ")
                    .append(prefix)
                    .append("\"}\n");
        }
        Files.writeString(file, b);
        return file;
    }

    /** Every file under {@code dir} (relative path -> bytes), hidden ones included: the byte-identity of a partition. */
    static Map<String, byte[]> snapshot(Path dir) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                files.put(dir.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return files;
    }

    static void assertSameBytes(Map<String, byte[]> expected, Map<String, byte[]> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        for (String k : expected.keySet()) {
            assertArrayEquals(expected.get(k), actual.get(k), k);
        }
    }

    static List<String> hiddenLeftovers(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString())
                    .filter(n -> n.contains(".attnspark-"))
                    .toList();
        }
    }

    static List<String> ids(Dataset<Row> rows) {
        return rows.select("id").collectAsList().stream()
                .map(r -> r.getString(0))
                .sorted()
                .toList();
    }

    static List<String> expectedIds(String prefix, int n) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) ids.add(prefix + "-" + i);
        return ids.stream().sorted().toList();
    }

    @Test
    void partitionsAreHiveLayoutAndReRunReplacesOnlyItsOwn() throws Exception {
        Path out = tmp.resolve("table");
        Path a = input(tmp.resolve("in/a.jsonl"), "a", 7);
        Path b = input(tmp.resolve("in/b.jsonl"), "b", 5);
        Path c = input(tmp.resolve("in/c.jsonl"), "c", 3);
        JobRunner.run(spark, partitionSpec(a, out, "date=2026-12-01"));
        JobSummary second = JobRunner.run(spark, partitionSpec(b, out, "date=2026-12-02"));
        assertEquals(5, second.rows());
        assertTrue(second.outputUri().endsWith("/table/date=2026-12-02"), second.outputUri());

        Dataset<Row> table = spark.read().parquet(out.toString());
        assertEquals("date", table.schema().fieldNames()[table.schema().fieldNames().length - 1]);
        assertEquals("date", table.schema().apply("date").dataType().typeName());
        assertEquals(expectedIds("a", 7), ids(table.where("date = DATE'2026-12-01'")));
        assertEquals(expectedIds("b", 5), ids(table.where("date = DATE'2026-12-02'")));

        Map<String, byte[]> first = snapshot(out.resolve("date=2026-12-01"));
        JobRunner.run(spark, partitionSpec(c, out, "date=2026-12-02"));
        assertSameBytes(first, snapshot(out.resolve("date=2026-12-01")));
        Dataset<Row> after = spark.read().parquet(out.toString());
        assertEquals(expectedIds("c", 3), ids(after.where("date = DATE'2026-12-02'")));
        assertEquals(10, after.count());
        assertEquals(List.of(), hiddenLeftovers(out));

        JsonNode manifest = manifest(out.resolve("date=2026-12-02"));
        assertEquals(3, manifest.get("rows").asLong());
        assertEquals(0, manifest.get("errors").asLong());
        assertEquals("date=2026-12-02", manifest.get("partition").asText());
        assertEquals("c.jsonl", manifest.get("inputFiles").get(0).get("path").asText());
        assertEquals(
                Files.size(c), manifest.get("inputFiles").get(0).get("size").asLong());
        assertEquals(
                Files.getLastModifiedTime(c).toMillis(),
                manifest.get("inputFiles").get(0).get("modified").asLong());
        assertEquals("parquet", manifest.get("options").get("format").asText());
        assertTrue(manifest.get("modelFingerprint").asText().startsWith("bundled:"), manifest.toString());
    }

    @Test
    void failureBeforeTheSwapKeepsThePreviousContent() throws Exception {
        Path out = tmp.resolve("table");
        Path a = input(tmp.resolve("in/a.jsonl"), "a", 6);
        Path b = input(tmp.resolve("in/b.jsonl"), "b", 4);
        for (String[] partition : new String[][] {{"--partition", "date=2026-12-01"}, {}}) {
            Path target = partition.length == 0 ? tmp.resolve("whole") : out.resolve("date=2026-12-01");
            String output = partition.length == 0 ? target.toString() : out.toString();
            JobRunner.run(spark, embedSpec(a.toString(), output, partition));
            Map<String, byte[]> before = snapshot(target);
            System.setProperty(OutputSwap.FAIL_BEFORE_SWAP, "true");
            try {
                IllegalStateException e = assertThrows(
                        IllegalStateException.class,
                        () -> JobRunner.run(spark, embedSpec(b.toString(), output, partition)));
                assertTrue(e.getMessage().contains("failing before the swap"), e.getMessage());
            } finally {
                System.clearProperty(OutputSwap.FAIL_BEFORE_SWAP);
            }
            assertSameBytes(before, snapshot(target));
            assertEquals(List.of(), hiddenLeftovers(target.getParent()), "the failed run's staging is deleted");
            assertEquals(expectedIds("a", 6), ids(spark.read().parquet(target.toString())));
        }
    }

    /** What a kill between the two renames leaves (target aside, no target) and a stale staging dir: the next run puts it right. */
    @Test
    void nextRunRecoversWhatAKilledRunLeft() throws Exception {
        Path out = tmp.resolve("table");
        Path a = input(tmp.resolve("in/a.jsonl"), "a", 6);
        JobRunner.run(spark, partitionSpec(a, out, "date=2026-12-01"));
        Path target = out.resolve("date=2026-12-01");
        Map<String, byte[]> before = snapshot(target);
        Files.move(target, out.resolve(".date=2026-12-01.attnspark-old-killed"));
        Files.createDirectories(out.resolve(".date=2026-12-01.attnspark-staging-killed/date=2026-12-01/_temporary/0"));
        Files.writeString(
                out.resolve(".date=2026-12-01.attnspark-staging-killed/date=2026-12-01/_temporary/0/part-0.parquet"),
                "half");

        OutputSwap.begin(
                JobRunner.fileSystem(spark, new org.apache.hadoop.fs.Path(out.toUri())),
                new org.apache.hadoop.fs.Path(target.toUri()));
        assertSameBytes(before, snapshot(target));
        assertEquals(List.of(), hiddenLeftovers(out));

        // a stale aside copy beside a present target (kill after the swap, before the delete) is dropped
        Files.createDirectories(out.resolve(".date=2026-12-01.attnspark-old-late"));
        Files.writeString(out.resolve(".date=2026-12-01.attnspark-old-late/part-0.parquet"), "old");
        JobRunner.run(spark, partitionSpec(a, out, "date=2026-12-01"));
        assertEquals(List.of(), hiddenLeftovers(out));
        assertEquals(expectedIds("a", 6), ids(spark.read().parquet(target.toString())));
    }

    @Test
    void wholeOutputRefusesToReplaceAPartitionedTable() throws Exception {
        Path out = tmp.resolve("table");
        Path a = input(tmp.resolve("in/a.jsonl"), "a", 2);
        JobRunner.run(spark, partitionSpec(a, out, "date=2026-12-01"));
        InputException e =
                assertThrows(InputException.class, () -> JobRunner.run(spark, embedSpec(a.toString(), out.toString())));
        assertTrue(
                e.getMessage().contains("is a partitioned table (date=2026-12-01)")
                        && e.getMessage().contains("--partition"),
                e.getMessage());
        assertTrue(Files.isDirectory(out.resolve("date=2026-12-01")));

        UsageException u =
                assertThrows(UsageException.class, () -> JobRunner.run(spark, partitionSpec(a, out, "id=1")));
        assertTrue(u.getMessage().contains("'id' is a column of the output rows"), u.getMessage());
        String bad = assertThrows(UsageException.class, () -> embedSpec("i", "o", "--partition", "date=2026-13-01"))
                .getMessage();
        assertTrue(bad.startsWith("option --partition: ") && bad.contains("YYYY-MM-DD"), bad);
        bad = assertThrows(UsageException.class, () -> embedSpec("i", "o", "--partition", "day=../x"))
                .getMessage();
        assertTrue(bad.contains("partition value '../x'"), bad);
        bad = assertThrows(
                        UsageException.class,
                        () -> embedSpec("i", "o", "--partition", "date=2026-12-01", "--since", "2026-12-01"))
                .getMessage();
        assertTrue(bad.contains("not both"), bad);
    }

    /** {@code embed --input INPUT --output OUT --partition PARTITION}. */
    static JobSpec partitionSpec(Path input, Path out, String partition) {
        return embedSpec(input.toString(), out.toString(), "--partition", partition);
    }

    /** The arguments of a score backfill of {@code in} into {@code out} from {@code since} to {@code until} (null: on). */
    static List<String> backfillArgs(Path in, Path out, Path model, String since, String until) {
        List<String> args = new ArrayList<>(List.of(
                "--input", in.toString(), "--output", out.toString(), "--model", model.toString(), "--since", since));
        if (until != null) args.addAll(List.of("--until", until));
        return args;
    }

    /** The {@link RunManifest} a run committed into {@code dir}. */
    static JsonNode manifest(Path dir) throws IOException {
        return new ObjectMapper().readTree(dir.resolve(RunManifest.FILE_NAME).toFile());
    }

    /** Runs a backfill in this JVM's session; returns its stdout. */
    static String backfill(List<String> args, int expectedExit) {
        JobSpec spec = JobSpec.parse(Command.SCORE, args.toArray(String[]::new));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Backfill.run(spark, spec, new PrintStream(out, true), new PrintStream(err, true));
        assertEquals(expectedExit, code, out + "\n" + err);
        return out.toString();
    }

    @Test
    void backfillDoesEachDateOnceAndOnlyWhatChanged() throws Exception {
        Path in = tmp.resolve("corpus");
        input(in.resolve("date=2026-11-01/part-0.jsonl"), "d1", 4);
        input(in.resolve("date=2026-11-02/part-0.jsonl"), "d2", 3);
        input(in.resolve("date=2026-11-02/part-1.jsonl"), "d2b", 2);
        input(in.resolve("date=2026-11-04/part-0.jsonl"), "d4", 5);
        input(in.resolve("date=2026-11-09/part-0.jsonl"), "d9", 1); // outside the range
        Path out = tmp.resolve("scores");
        Path model = Files.createDirectories(tmp.resolve("model"));
        Files.writeString(model.resolve("config.json"), "{}");
        List<String> args = backfillArgs(in, out, model, "2026-11-01", "2026-11-05");

        // an interrupted backfill: only the first date got done
        backfill(backfillArgs(in, out, model, "2026-11-01", "2026-11-01"), 0);
        Map<String, byte[]> d1 = snapshot(out.resolve("date=2026-11-01"));
        String log = backfill(args, 0);
        assertTrue(log.contains("date=2026-11-01: skipped"), log);
        assertTrue(log.contains("date=2026-11-02: running") && log.contains("date=2026-11-04: running"), log);
        assertTrue(
                log.contains(
                        ": 2 written, 1 skipped (already committed), 0 failed, no input for 2 date(s): [2026-11-03, 2026-11-05]"),
                log);
        assertSameBytes(d1, snapshot(out.resolve("date=2026-11-01")));
        Dataset<Row> table = spark.read().parquet(out.toString());
        assertEquals(4 + 5 + 5, table.count());
        assertEquals(List.of("d2-0", "d2-1", "d2-2", "d2b-0", "d2b-1"), ids(table.where("date = DATE'2026-11-02'")));
        assertFalse(Files.exists(out.resolve("date=2026-11-09")));

        // nothing changed: nothing runs
        Map<String, byte[]> all = snapshot(out);
        log = backfill(args, 0);
        assertTrue(log.contains(": 0 written, 3 skipped"), log);
        assertSameBytes(all, snapshot(out));

        // one input file changed (new mtime): that date only
        Path changed = in.resolve("date=2026-11-04/part-0.jsonl");
        Files.setLastModifiedTime(
                changed, FileTime.fromMillis(Files.getLastModifiedTime(changed).toMillis() + 5000));
        log = backfill(args, 0);
        assertTrue(log.contains("date=2026-11-04: running") && log.contains(": 1 written, 2 skipped"), log);
        assertSameBytes(d1, snapshot(out.resolve("date=2026-11-01")));

        // another option that shapes the rows, or another model: everything again
        List<String> perToken = new ArrayList<>(args);
        perToken.add("--per-token");
        assertTrue(backfill(perToken, 0).contains(": 3 written, 0 skipped"));
        Files.writeString(model.resolve("config.json"), "{\"changed\": true}");
        assertTrue(backfill(perToken, 0).contains(": 3 written, 0 skipped"));
        // run-only options (how fast, how verbose) do not count
        perToken.addAll(List.of("--chunk-rows", "7", "--partitions", "2"));
        assertTrue(backfill(perToken, 0).contains(": 0 written, 3 skipped"));

        JsonNode manifest = manifest(out.resolve("date=2026-11-02"));
        assertEquals(5, manifest.get("rows").asLong());
        assertEquals(2, manifest.get("inputFiles").size());
        assertEquals("true", manifest.get("options").get("per-token").asText());
        assertFalse(manifest.get("options").has("chunk-rows"));
        assertTrue(manifest.get("modelFingerprint").asText().startsWith("sha256:"));
        assertTrue(manifest.get("seconds").asDouble() > 0);
        assertFalse(manifest.get("started").asText().isEmpty());
    }

    @Test
    void interruptedBackfillRunAgainDoesOnlyWhatIsMissing() throws Exception {
        Path in = tmp.resolve("corpus");
        for (int d = 1; d <= 3; d++) {
            input(in.resolve("date=2026-11-0" + d + "/part-0.jsonl"), "d" + d, d + 1);
        }
        Path out = tmp.resolve("scores");
        Path model = Files.createDirectories(tmp.resolve("model"));
        Files.writeString(model.resolve("config.json"), "{}");
        List<String> args = backfillArgs(in, out, model, "2026-11-01", "2026-11-03");
        System.setProperty(OutputSwap.FAIL_BEFORE_SWAP, "date=2026-11-02");
        try {
            String log = backfill(args, JobRunner.EXIT_FAILED);
            assertTrue(log.contains(": 2 written, 0 skipped (already committed), 1 failed [date=2026-11-02]"), log);
        } finally {
            System.clearProperty(OutputSwap.FAIL_BEFORE_SWAP);
        }
        assertFalse(Files.exists(out.resolve("date=2026-11-02")));
        Map<String, byte[]> done = snapshot(out);
        String log = backfill(args, JobRunner.EXIT_OK);
        assertTrue(log.contains("date=2026-11-02: running") && log.contains(": 1 written, 2 skipped"), log);
        Map<String, byte[]> after = snapshot(out);
        for (String k : done.keySet()) {
            assertArrayEquals(done.get(k), after.get(k), k + " was rewritten");
        }
        assertEquals(
                List.of("d2-0", "d2-1", "d2-2"),
                ids(spark.read().parquet(out.toString()).where("date = DATE'2026-11-02'")));
        assertEquals(List.of(), hiddenLeftovers(out));
    }

    @Test
    void backfillFailureOfOneDateDoesNotStopTheOthers() throws Exception {
        Path in = tmp.resolve("corpus");
        input(in.resolve("date=2026-11-01/part-0.jsonl"), "d1", 2);
        Files.createDirectories(in.resolve("date=2026-11-02"));
        Files.writeString(in.resolve("date=2026-11-02/notes.txt"), "not an input format\n");
        input(in.resolve("date=2026-11-03/part-0.jsonl"), "d3", 2);
        Path out = tmp.resolve("scores");
        String log = backfill(backfillArgs(in, out, tmp, "2026-11-01", null), JobRunner.EXIT_FAILED);
        assertTrue(
                log.contains(
                        "backfill 2026-11-01..2026-11-03: 2 written, 0 skipped (already committed), 1 failed [date=2026-11-02]"),
                log);
        assertTrue(Files.exists(out.resolve("date=2026-11-03").resolve(RunManifest.FILE_NAME)));
        assertFalse(Files.exists(out.resolve("date=2026-11-02")));
    }
}
