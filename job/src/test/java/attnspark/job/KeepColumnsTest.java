package attnspark.job;

import static attnspark.job.JobTesting.embedSpec;
import static org.junit.jupiter.api.Assertions.*;

import attnspark.udf.FakeModels;
import attnspark.udf.ModelReplicas;
import attnspark.udf.OutputSchemas;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --keep-columns copies input columns (any type) into the output rows, error rows included. Model: {@link FakeModels}. */
class KeepColumnsTest {
    static SparkSession spark;
    static final StructType META =
            new StructType().add("source", DataTypes.StringType).add("weight", DataTypes.DoubleType);
    static final StructType INPUT = new StructType()
            .add("id", DataTypes.IntegerType)
            .add("text", DataTypes.StringType)
            .add("n", DataTypes.IntegerType)
            .add("meta", META);
    static final List<Row> ROWS = List.of(
            RowFactory.create(1, "hello big world", 10, RowFactory.create("web", 1.5)),
            RowFactory.create(2, null, 20, RowFactory.create("mail", 2.5)), // an error row: null text
            RowFactory.create(3, "", null, null));
    static String input;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        ModelReplicas.setFactoryForTests(new FakeModels());
        spark = JobTesting.localSpark("keep-columns-test");
        input = tmp.resolve("in.parquet").toString();
        spark.createDataFrame(ROWS, INPUT).repartition(2).write().parquet(input);
    }

    @AfterAll
    static void stop() {
        spark.stop();
        ModelReplicas.setFactoryForTests(null);
    }

    static Map<String, Row> byId(Dataset<Row> out) {
        Map<String, Row> m = new HashMap<>();
        for (Row r : out.collectAsList()) {
            m.put(r.getString(r.fieldIndex("id")), r);
        }
        return m;
    }

    @Test
    void namedColumnsKeepTheirTypesAndValues() {
        String out = tmp.resolve("named").toString();
        JobRunner.run(spark, embedSpec(input, out, "--keep-columns", "meta, n"));
        Dataset<Row> rows = spark.read().parquet(out);
        List<String> expected =
                new ArrayList<>(Arrays.asList(OutputSchemas.embed().fieldNames()));
        expected.addAll(List.of("meta", "n"));
        assertEquals(expected, Arrays.asList(rows.columns()));
        assertEquals(META, rows.schema().apply("meta").dataType());
        assertEquals(DataTypes.IntegerType, rows.schema().apply("n").dataType());
        Map<String, Row> m = byId(rows);
        assertEquals(3, m.size());
        for (Row in : ROWS) {
            Row r = m.get(String.valueOf(in.getInt(0)));
            assertEquals(in.get(3), r.get(r.fieldIndex("meta")), "meta of row " + in.getInt(0));
            assertEquals(in.get(2), r.get(r.fieldIndex("n")), "n of row " + in.getInt(0));
        }
        assertEquals("row 2: column 'text' is null", m.get("2").getAs("error"));
        assertNull(m.get("3").getAs("error"), "empty text is embedded");
    }

    @Test
    void starKeepsEveryColumnButTheIdInJsonLines() {
        String out = tmp.resolve("star").toString();
        JobSpec spec = embedSpec(input, out, "--keep-columns", "*", "--format", "jsonl");
        JobRunner.run(spark, spec);
        StructType schema = OutputSchemas.embed()
                .add("text", DataTypes.StringType)
                .add("n", DataTypes.IntegerType)
                .add("meta", META);
        Map<String, Row> m = byId(spark.read().schema(schema).json(out));
        assertEquals("hello big world", m.get("1").getAs("text"));
        assertEquals(RowFactory.create("mail", 2.5), m.get("2").getAs("meta"));
        assertNull(m.get("3").getAs("meta"));
        assertEquals("", m.get("3").getAs("text"));
    }

    @Test
    void missingOrClashingColumnsFailBeforeAnyTask() {
        InputException missing = assertThrows(
                InputException.class,
                () -> JobRunner.run(
                        spark, embedSpec(input, tmp.resolve("o1").toString(), "--keep-columns", "n,label")));
        assertEquals(
                "option --keep-columns: input " + input + " has no column 'label' (columns found: id, text, n, meta)",
                missing.getMessage());

        String clashing = tmp.resolve("clash.parquet").toString();
        spark.createDataFrame(
                        List.of(RowFactory.create(1, "a", 5)),
                        new StructType()
                                .add("id", DataTypes.IntegerType)
                                .add("text", DataTypes.StringType)
                                .add("n_tokens", DataTypes.IntegerType))
                .write()
                .parquet(clashing);
        InputException clash = assertThrows(
                InputException.class,
                () -> JobRunner.run(spark, embedSpec(clashing, tmp.resolve("o2").toString(), "--keep-columns", "*")));
        assertTrue(
                clash.getMessage()
                        .startsWith("option --keep-columns: input column 'n_tokens' has the name of an output"
                                + " column (id, embedding, n_tokens, truncated, error)"),
                clash.getMessage());

        UsageException empty =
                assertThrows(UsageException.class, () -> embedSpec(input, "o", "--keep-columns", "n,,meta"));
        assertEquals(
                "option --keep-columns: 'n,,meta' has an empty column name; give NAME,NAME,... or *",
                empty.getMessage());
    }
}
