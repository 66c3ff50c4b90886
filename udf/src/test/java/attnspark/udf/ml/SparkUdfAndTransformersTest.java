package attnspark.udf.ml;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.api.ModelOptions;
import attnspark.api.ScoringMode;
import attnspark.udf.EmbedPartitionFunction;
import attnspark.udf.EmbedText;
import attnspark.udf.FakeModels;
import attnspark.udf.ModelReplicas;
import attnspark.udf.OutputSchemas;
import attnspark.udf.ScorePartitionFunction;
import attnspark.udf.ScoreText;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.param.ParamMap;
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

/**
 * UDFs and ML transformers on local[2] Spark with {@link FakeModels}: plumbing, not the model
 * (job/OneAnswerEverywhereTest runs them on real models against the CLI job).
 */
class SparkUdfAndTransformersTest {
    static SparkSession spark;
    static Dataset<Row> df;

    @BeforeAll
    static void start() {
        ModelReplicas.setFactoryForTests(new FakeModels());
        spark = SparkSession.builder()
                .master("local[2]")
                .appName("udf-test")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .getOrCreate();
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("text", DataTypes.StringType);
        df = spark.createDataFrame(
                        List.of(
                                RowFactory.create(1, "hello big world"),
                                RowFactory.create(2, null),
                                RowFactory.create(3, "POISON here"),
                                RowFactory.create(4, "fine")),
                        schema)
                .repartition(2);
        df.createOrReplaceTempView("docs");
    }

    @AfterAll
    static void stop() {
        spark.stop();
        ModelReplicas.setFactoryForTests(null);
    }

    @Test
    void sqlUdf() {
        spark.udf()
                .register(
                        "embed",
                        new EmbedText(new EmbedPartitionFunction(ModelOptions.defaults(), "id", "text", 1)),
                        EmbedText.RETURN_TYPE);
        List<Row> rows = spark.sql("SELECT id, embed(text) AS e FROM docs WHERE id IN (1, 2, 4) ORDER BY id")
                .collectAsList();
        assertEquals(3, rows.size());
        assertEquals(List.of(15f, 3f, 1f, -1f), rows.get(0).getList(1));
        assertTrue(rows.get(1).isNullAt(1));
        assertEquals(
                List.of(0f, 0f, 1f, -1f),
                spark.sql("SELECT embed('') AS e").first().getList(0));
        assertEquals(
                DataTypes.createArrayType(DataTypes.FloatType, false),
                spark.sql("SELECT embed(text) FROM docs").schema().fields()[0].dataType());
        Exception e = assertThrows(
                Exception.class,
                () -> spark.sql("SELECT embed(text) FROM docs WHERE id = 3").collectAsList());
        assertTrue(
                String.valueOf(e.getMessage())
                        .contains("EmbedText: embedding a text of 11 characters failed: "
                                + "IllegalArgumentException: poisoned text"),
                e.getMessage());
    }

    @Test
    void scoreUdfCarriesTheErrorInItsStruct() {
        ScoreText score = new ScoreText(new ScorePartitionFunction(ModelOptions.defaults(), "id", "text", 1, false));
        assertEquals(OutputSchemas.without(OutputSchemas.score(false), "id"), score.returnType());
        spark.udf().register("score", score, score.returnType());
        List<Row> rows =
                spark.sql("SELECT id, score(text) AS s FROM docs ORDER BY id").collectAsList();
        Row ok = rows.get(0).getStruct(1);
        assertEquals(3, ok.getInt(ok.fieldIndex("n_tokens")));
        assertEquals(4.5, ok.getDouble(ok.fieldIndex("nll")));
        assertTrue(ok.isNullAt(ok.fieldIndex("error")));
        assertTrue(rows.get(1).isNullAt(1)); // null text: null, as documented
        Row bad = rows.get(2).getStruct(1);
        assertEquals("IllegalArgumentException: poisoned text", bad.getString(bad.fieldIndex("error")));
        assertTrue(bad.isNullAt(bad.fieldIndex("nll")));
        Row empty = spark.sql("SELECT score('') AS s").first().getStruct(0);
        assertEquals(0, empty.getInt(empty.fieldIndex("n_tokens")));
    }

    @Test
    void registerJavaWithoutTheJobJarNamesIt() {
        // the udf module alone has no UdfSettings implementation: registerJava constructs EmbedText, which says what to
        // add
        Exception e = assertThrows(
                Exception.class,
                () -> spark.udf().registerJava("embed2", EmbedText.class.getName(), EmbedText.RETURN_TYPE));
        String messages = "";
        for (Throwable t = e; t != null; t = t.getCause()) {
            messages += t.getMessage() + "\n";
        }
        assertTrue(messages.contains("add the job jar (attnspark-job-<version>-spark.jar"), messages);
    }

    @Test
    void embedderTransformerWithErrorColumn() {
        TextEmbedderTransformer t = new TextEmbedderTransformer()
                .setInputCol("text")
                .setOutputCol("vec")
                .setErrorCol("err")
                .setPooling("mean")
                .setMaxLength(64);
        Dataset<Row> out = t.transform(df).orderBy("id");
        assertEquals(Arrays.asList("id", "text", "vec", "err"), Arrays.asList(out.columns()));
        List<Row> rows = out.collectAsList();
        assertEquals(4, rows.size());
        assertEquals(List.of(15f, 3f, 1f, -1f), rows.get(0).getList(2));
        // null text is an error row, as in the CLI's output (DocPartitionFunction's message)
        assertTrue(rows.get(1).isNullAt(2));
        assertTrue(
                rows.get(1).getString(3).endsWith(": column 'text' is null"),
                rows.get(1).getString(3));
        assertTrue(rows.get(2).getString(3).contains("poisoned text"));
        assertTrue(rows.get(2).isNullAt(2));
        assertNull(rows.get(3).get(3));
        assertEquals("mean", t.modelOptions().pooling());
        assertEquals(64, t.modelOptions().maxLength());

        TextEmbedderTransformer copy = t.copy(new ParamMap());
        assertEquals("vec", copy.getOutputCol());
        assertEquals(t.uid(), copy.uid());
    }

    @Test
    void emptyTextIsEmbeddedAndEveryInputColumnPassesThrough() {
        StructType schema = new StructType()
                .add("k", DataTypes.LongType)
                .add("text", DataTypes.StringType)
                .add("tags", DataTypes.createArrayType(DataTypes.StringType));
        Dataset<Row> in = spark.createDataFrame(
                List.of(RowFactory.create(7L, "", List.of("a")), RowFactory.create(8L, null, List.of())), schema);
        List<Row> rows = new TextEmbedderTransformer()
                .setIdCol("k")
                .transform(in)
                .orderBy("k")
                .collectAsList();
        assertEquals(
                List.of("k", "text", "tags", "embedding", "error"),
                Arrays.asList(rows.get(0).schema().fieldNames()));
        // FakeModels embeds "" as {length 0, 0 words, 1, -1}, like the embed job does
        assertEquals(List.of(0f, 0f, 1f, -1f), rows.get(0).getList(3));
        assertTrue(rows.get(0).isNullAt(4));
        assertEquals(List.of("a"), rows.get(0).getList(2));
        assertEquals(7L, rows.get(0).getLong(0));
        // the idCol names the row in the message, as the CLI's --id-col does
        assertEquals("row 8: column 'text' is null", rows.get(1).getString(4));
        assertEquals(List.of(), rows.get(1).getList(2));
    }

    @Test
    void failingRowFailsTheJobWithoutErrorColumn() {
        TextEmbedderTransformer t =
                new TextEmbedderTransformer().setInputCol("text").setErrorCol("");
        assertEquals(
                List.of("id", "text", "embedding"),
                Arrays.asList(t.transformSchema(df.schema()).fieldNames()));
        Exception e = assertThrows(
                Exception.class, () -> t.transform(df.where("id <> 2")).collectAsList());
        assertTrue(String.valueOf(e.getMessage()).contains("poisoned text"), e.getMessage());
    }

    @Test
    void scorerTransformerStruct() {
        TextScorerTransformer t = new TextScorerTransformer()
                .setInputCol("text")
                .setPerToken(true)
                .setErrorCol("err");
        Dataset<Row> out = t.transform(df.where("id <> 3")).orderBy("id");
        StructType scoreType = (StructType) out.schema().apply("score").dataType();
        assertEquals(TextScorerTransformer.scoreType(true), scoreType);
        // the score job's columns, less id and error
        for (String name : OutputSchemas.score(true).fieldNames()) {
            assertEquals(
                    !name.equals("id") && !name.equals("error"),
                    Arrays.asList(scoreType.fieldNames()).contains(name),
                    name);
        }
        Row first = out.first().getStruct(2);
        assertEquals(3, first.getInt(first.fieldIndex("n_tokens")));
        assertEquals(4.5, first.getDouble(first.fieldIndex("nll")), 1e-12);
        assertEquals(List.of(1, 3, 4, 5), first.getList(first.fieldIndex("token_ids")));
        List<Row> nll = out.select("score.nll").collectAsList();
        assertTrue(nll.get(1).isNullAt(0));
    }

    @Test
    void schemaValidation() {
        assertThrows(
                IllegalArgumentException.class,
                () -> new TextEmbedderTransformer().setInputCol("nope").transformSchema(df.schema()));
        assertThrows(
                IllegalArgumentException.class,
                () -> new TextEmbedderTransformer().setInputCol("id").transformSchema(df.schema()));
        assertThrows(
                IllegalArgumentException.class,
                () -> new TextEmbedderTransformer()
                        .setInputCol("text")
                        .setOutputCol("id")
                        .transformSchema(df.schema()));
    }

    @Test
    void scoringModeMisfitsFailOnTheDriver() {
        // the CLI's rules (README, "Modes"): rolling windows are disjoint (no stride), strided needs both
        IllegalArgumentException rolling = assertThrows(
                IllegalArgumentException.class,
                () -> new TextScorerTransformer()
                        .setModel("/m")
                        .setMode("lm-eval-rolling")
                        .setWindow(8, 4)
                        .transformSchema(df.schema()));
        assertTrue(rolling.getMessage().contains("takes no --stride"), rolling.getMessage());
        IllegalArgumentException strided = assertThrows(
                IllegalArgumentException.class,
                () -> new TextScorerTransformer()
                        .setModel("/m")
                        .setMode("hf-strided")
                        .transformSchema(df.schema()));
        assertTrue(strided.getMessage().contains("--window W and --stride S"), strided.getMessage());
        IllegalArgumentException full = assertThrows(
                IllegalArgumentException.class,
                () -> new TextScorerTransformer()
                        .setModel("/m")
                        .setMode("full")
                        .setWindow(8, 4)
                        .transformSchema(df.schema()));
        assertTrue(full.getMessage().startsWith("TextScorerTransformer: --mode full"), full.getMessage());
        assertEquals(
                ScoringMode.HF_STRIDED,
                new TextScorerTransformer()
                        .setModel("/m")
                        .setWindow(8, 4)
                        .modelOptions()
                        .mode(),
                "an unset mode with a window is hf-strided, as on the command line");
        new TextScorerTransformer()
                .setModel("/m")
                .setMode("lm-eval-rolling")
                .setWindow(8, 0)
                .transformSchema(df.schema());
    }

    @Test
    void saveAndLoad(@TempDir Path dir) throws Exception {
        TextScorerTransformer t =
                new TextScorerTransformer().setModel("/m").setWindow(32, 16).setOutputCol("s");
        t.save(dir.resolve("t").toString());
        TextScorerTransformer back = TextScorerTransformer.load(dir.resolve("t").toString());
        assertEquals(t.uid(), back.uid());
        assertEquals(t.modelOptions(), back.modelOptions());
        assertEquals(32, back.modelOptions().window());
        assertEquals("s", back.getOutputCol());
    }

    @Test
    void pipelineModelSavedAndLoaded(@TempDir Path dir) throws Exception {
        Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {
            new TextEmbedderTransformer().setNormalize(false).setErrorCol("embed_error"),
            new TextScorerTransformer().setAttentionChunk(8).setErrorCol("score_error")
        });
        PipelineModel fitted = pipeline.fit(df);
        String path = dir.resolve("pipeline").toString();
        fitted.save(path);
        PipelineModel loaded = PipelineModel.load(path);
        assertEquals(2, loaded.stages().length);
        assertEquals(
                ((TextEmbedderTransformer) fitted.stages()[0]).modelOptions(),
                ((TextEmbedderTransformer) loaded.stages()[0]).modelOptions());
        assertEquals(
                ((TextScorerTransformer) fitted.stages()[1]).modelOptions(),
                ((TextScorerTransformer) loaded.stages()[1]).modelOptions());
        List<Row> expected = fitted.transform(df).orderBy("id").collectAsList();
        List<Row> actual = loaded.transform(df).orderBy("id").collectAsList();
        assertEquals(expected, actual);
        assertEquals(
                List.of("id", "text", "embedding", "embed_error", "score", "score_error"),
                Arrays.asList(actual.get(0).schema().fieldNames()));
    }
}
