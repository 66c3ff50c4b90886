package attnspark.job;

import static attnspark.job.JobTesting.embedSpec;
import static attnspark.job.JobTesting.scoreSpec;
import static org.junit.jupiter.api.Assertions.*;

import attnspark.udf.FakeModels;
import attnspark.udf.ModelReplicas;
import attnspark.udf.OutputSchemas;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Row plumbing of both jobs on local[2] Spark: reading, bad rows, schemas, output formats,
 * fail-fast checks. The model is {@link FakeModels} (injected through the replica factory
 * hook): this tests the plumbing, not the model; RealModelJobTest runs the real ones.
 */
class JobPlumbingTest {
    static SparkSession spark;
    static final Path SAMPLES =
            Path.of(System.getProperty("user.dir")).getParent().resolve("datasets/sample");

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        ModelReplicas.setFactoryForTests(new FakeModels());
        spark = JobTesting.localSpark("job-test");
    }

    @AfterAll
    static void stop() {
        spark.stop();
        ModelReplicas.setFactoryForTests(null);
    }

    static Map<String, Row> byIdOrError(Dataset<Row> out) {
        Map<String, Row> m = new HashMap<>();
        int anon = 0;
        for (Row r : out.collectAsList()) {
            m.put(r.isNullAt(0) ? "<null-" + (anon++) + ">" : r.getString(0), r);
        }
        return m;
    }

    static void assertSchema(StructType expected, StructType actual) {
        assertEquals(expected.fieldNames().length, actual.fieldNames().length, actual.treeString());
        for (StructField f : expected.fields()) {
            assertEquals(
                    f.dataType().simpleString(),
                    actual.apply(f.name()).dataType().simpleString(),
                    f.name());
        }
        assertArrayEquals(expected.fieldNames(), actual.fieldNames());
    }

    @Test
    void embedBadRowsJsonlToParquet() {
        String out = tmp.resolve("embed-bad").toString();
        JobSpec s = embedSpec(SAMPLES.resolve("bad_rows.jsonl").toString(), out);
        JobSummary sum = JobRunner.run(spark, s);
        Dataset<Row> rows = spark.read().parquet(out);
        assertSchema(OutputSchemas.embed(), rows.schema());
        assertEquals(8, sum.rows());
        assertEquals(8, rows.count());
        assertEquals(4, sum.errors());
        Map<String, Row> m = byIdOrError(rows);
        assertNull(m.get("ok-1").getAs("error"));
        assertEquals(FakeModels.DIM, m.get("ok-1").getList(1).size());
        assertNull(m.get("ok-2").getAs("error"));
        assertNull(m.get("42").getAs("error"), "numeric id is kept as the string \"42\"");
        assertEquals("row null-text: column 'text' is null", m.get("null-text").getAs("error"));
        assertEquals(
                "row no-text-field: column 'text' is null",
                m.get("no-text-field").getAs("error"));
        assertNull(m.get("empty-text").getAs("error"), "empty text embeds like HF, it is not an error");
        List<String> anonErrors = m.entrySet().stream()
                .filter(e -> e.getKey().startsWith("<null"))
                .map(e -> (String) e.getValue().getAs("error"))
                .sorted()
                .toList();
        assertEquals(2, anonErrors.size(), anonErrors.toString());
        assertTrue(
                anonErrors.stream().anyMatch(e -> e.contains("column 'id' is null") && e.contains("no id field")),
                anonErrors.toString());
        assertTrue(
                anonErrors.stream().anyMatch(e -> e.contains("malformed input record") && e.contains("cut off")),
                anonErrors.toString());
        long tokens = m.get("ok-1").getInt(2)
                + m.get("ok-2").getInt(2)
                + m.get("42").getInt(2)
                + m.get("empty-text").getInt(2);
        assertEquals(tokens, sum.tokens());
        assertTrue(
                sum.line()
                        .matches(
                                "attnspark embed: rows=8 errors=4 tokens=\\d+ seconds=[0-9.]+ tokens/s=[0-9.]+ output=.*embed-bad"),
                sum.line());
    }

    @Test
    void scoreBadRowsPerTokenToJsonl() throws Exception {
        String out = tmp.resolve("score-bad").toString();
        JobSpec s = scoreSpec(
                SAMPLES.resolve("bad_rows.jsonl").toString(), out, tmp.toString(), "--per-token", "--format", "jsonl");
        JobSummary sum = JobRunner.run(spark, s);
        assertEquals(8, sum.rows());
        assertEquals(4, sum.errors()); // empty text scores 0 tokens, it is not an error
        // every line carries every key (ignoreNullFields=false)
        List<Path> parts = Files.list(Path.of(out))
                .filter(p -> p.getFileName().toString().startsWith("part-"))
                .toList();
        assertFalse(parts.isEmpty());
        long lines = 0;
        for (Path p : parts) {
            for (String line : Files.readAllLines(p)) {
                lines++;
                for (String key : List.of(
                        "\"id\"",
                        "\"n_tokens\"",
                        "\"nll\"",
                        "\"ppl\"",
                        "\"error\"",
                        "\"token_ids\"",
                        "\"token_logprobs\"")) {
                    assertTrue(line.contains(key), line);
                }
            }
        }
        assertEquals(8, lines);
        Dataset<Row> rows = JobRunner.readOutput(spark, s);
        assertSchema(OutputSchemas.score(true), rows.schema());
        Row ok = byIdOrError(rows).get("ok-1");
        int n = ok.getInt(1);
        assertEquals(7, n);
        assertEquals(1.5 * n, ok.getDouble(2), 1e-9);
        assertEquals(n + 1, ok.getList(ok.fieldIndex("token_ids")).size());
        assertEquals(n, ok.getList(ok.fieldIndex("token_logprobs")).size());
    }

    @Test
    void scoreWithoutPerTokenHasContractColumns() {
        String out = tmp.resolve("score-plain").toString();
        JobRunner.run(
                spark, scoreSpec(SAMPLES.resolve("docs.jsonl").toString(), out, tmp.toString(), "--partitions", "2"));
        Dataset<Row> rows = spark.read().parquet(out);
        assertSchema(OutputSchemas.score(false), rows.schema());
        assertEquals(200, rows.count());
        assertEquals(0, rows.where("error IS NOT NULL").count());
    }

    @Test
    void poisonedRowOnlyFailsItself() throws Exception {
        Path in = tmp.resolve("poison.jsonl");
        Files.writeString(
                in,
                "{\"id\":\"a\",\"text\":\"fine one\"}\n{\"id\":\"b\",\"text\":\"POISON\"}\n{\"id\":\"c\",\"text\":\"fine two\"}\n");
        String out = tmp.resolve("poison-out").toString();
        JobSummary sum = JobRunner.run(spark, embedSpec(in.toString(), out));
        assertEquals(3, sum.rows());
        assertEquals(1, sum.errors());
        assertEquals(
                "row b: IllegalArgumentException: poisoned text",
                byIdOrError(spark.read().parquet(out)).get("b").getAs("error"));
    }

    @Test
    void csvAndParquetInputsCustomColumns() throws Exception {
        Path csv = tmp.resolve("docs.csv");
        Files.writeString(csv, "doc,body,extra\n7,\"Hello, world\",x\n8,\"two\nlines\",y\n9,,z\n");
        String out = tmp.resolve("csv-out").toString();
        JobSummary sum = JobRunner.run(spark, embedSpec(csv.toString(), out, "--id-col", "doc", "--text-col", "body"));
        assertEquals(3, sum.rows());
        Map<String, Row> m = byIdOrError(spark.read().parquet(out));
        assertEquals(List.of(12f, 2f, 1f, -1f), m.get("7").getList(1));
        assertNull(m.get("8").getAs("error"));
        assertEquals("row 9: column 'body' is null", m.get("9").getAs("error"));

        // Parquet with a long id: the id is written as a string
        Path pq = tmp.resolve("in-parquet");
        StructType schema = new StructType().add("key", DataTypes.LongType).add("content", DataTypes.StringType);
        spark.createDataFrame(List.of(RowFactory.create(1L, "a b"), RowFactory.create(2L, "c")), schema)
                .write()
                .parquet(pq.toString());
        String out2 = tmp.resolve("pq-out").toString();
        JobRunner.run(spark, embedSpec(pq.toString(), out2, "--id-col", "key", "--text-col", "content"));
        Map<String, Row> m2 = byIdOrError(spark.read().parquet(out2));
        assertEquals(2, m2.size());
        assertEquals(4, m2.get("1").getInt(2));
    }

    @Test
    void failFast() throws Exception {
        String missing = tmp.resolve("nope.jsonl").toString();
        InputException e = assertThrows(
                InputException.class,
                () -> JobRunner.run(spark, embedSpec(missing, tmp.resolve("o1").toString())));
        assertTrue(e.getMessage().contains("input not found") && e.getMessage().contains("nope.jsonl"), e.getMessage());

        String docs = SAMPLES.resolve("docs.jsonl").toString();
        e = assertThrows(
                InputException.class,
                () -> JobRunner.run(spark, embedSpec(docs, tmp.resolve("o2").toString(), "--text-col", "body")));
        assertTrue(
                e.getMessage().contains("'body'")
                        && e.getMessage().contains("docs.jsonl")
                        && e.getMessage().contains("columns found: id, text"),
                e.getMessage());

        Path csv = tmp.resolve("cols.csv");
        Files.writeString(csv, "key,text\n1,a\n");
        e = assertThrows(
                InputException.class,
                () -> JobRunner.run(
                        spark, scoreSpec(csv.toString(), tmp.resolve("o3").toString(), tmp.toString())));
        assertTrue(
                e.getMessage().contains("'id'")
                        && e.getMessage().contains("cols.csv")
                        && e.getMessage().contains("key, text"),
                e.getMessage());

        Path txt = tmp.resolve("notes.txt");
        Files.writeString(txt, "hello\n");
        e = assertThrows(
                InputException.class,
                () -> JobRunner.run(
                        spark, embedSpec(txt.toString(), tmp.resolve("o4").toString())));
        assertTrue(e.getMessage().contains("cannot tell the format"), e.getMessage());

        e = assertThrows(
                InputException.class,
                () -> JobRunner.run(
                        spark,
                        scoreSpec(
                                docs,
                                tmp.resolve("o5").toString(),
                                tmp.resolve("no-model").toString())));
        assertTrue(e.getMessage().contains("model directory not found"), e.getMessage());

        Path dir = tmp.resolve("indir");
        Files.createDirectories(dir);
        Files.copy(SAMPLES.resolve("bad_rows.jsonl"), dir.resolve("part.jsonl"));
        e = assertThrows(
                InputException.class,
                () -> JobRunner.run(
                        spark, embedSpec(dir.toString(), dir.resolve("out").toString())));
        assertTrue(e.getMessage().contains("overlaps"), e.getMessage());
        assertTrue(Files.exists(dir.resolve("part.jsonl")));
    }

    @Test
    void directoryInputOfJsonParts() {
        // the output of one run (a directory of part-*.json + _SUCCESS) is valid input of the next
        String first = tmp.resolve("dir-first").toString();
        JobRunner.run(spark, embedSpec(SAMPLES.resolve("docs.jsonl").toString(), first, "--format", "jsonl"));
        String second = tmp.resolve("dir-second").toString();
        JobSummary sum = JobRunner.run(spark, scoreSpec(first, second, tmp.toString(), "--text-col", "error"));
        assertEquals(200, sum.rows());
        assertEquals(200, sum.errors()); // error column is all null -> every text is null
    }
}
