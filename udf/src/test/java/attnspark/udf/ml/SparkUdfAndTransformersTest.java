package attnspark.udf.ml;

import attnspark.api.ModelOptions;
import attnspark.udf.EmbeddingUdf;
import attnspark.udf.FakeModels;
import attnspark.udf.ModelReplicas;
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

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** UDF and ML transformers on local[2] Spark with {@link FakeModels}: plumbing, not the model. */
class SparkUdfAndTransformersTest {
    static SparkSession spark;
    static Dataset<Row> df;

    @BeforeAll
    static void start() {
        ModelReplicas.setFactoryForTests(new FakeModels());
        spark = SparkSession.builder().master("local[2]").appName("udf-test")
                .config("spark.sql.shuffle.partitions", "2").config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                .getOrCreate();
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("text", DataTypes.StringType);
        df = spark.createDataFrame(List.of(
                RowFactory.create(1, "hello big world"),
                RowFactory.create(2, null),
                RowFactory.create(3, "POISON here"),
                RowFactory.create(4, "fine")), schema).repartition(2);
        df.createOrReplaceTempView("docs");
    }

    @AfterAll
    static void stop() {
        spark.stop();
        ModelReplicas.setFactoryForTests(null);
    }

    @Test
    void sqlUdf() {
        EmbeddingUdf.register(spark, "embed", ModelOptions.defaults());
        List<Row> rows = spark.sql("SELECT id, embed(text) AS e FROM docs WHERE id IN (1, 2, 4) ORDER BY id").collectAsList();
        assertEquals(3, rows.size());
        assertEquals(List.of(15f, 3f, 1f, -1f), rows.get(0).getList(1));
        assertTrue(rows.get(1).isNullAt(1));
        assertEquals(DataTypes.createArrayType(DataTypes.FloatType, false),
                spark.sql("SELECT embed(text) FROM docs").schema().fields()[0].dataType());
    }

    @Test
    void embedderTransformerWithErrorColumn() {
        TextEmbedderTransformer t = new TextEmbedderTransformer().setInputCol("text").setOutputCol("vec")
                .setErrorCol("err").setPooling("mean").setMaxLength(64);
        Dataset<Row> out = t.transform(df).orderBy("id");
        assertEquals(Arrays.asList("id", "text", "vec", "err"), Arrays.asList(out.columns()));
        List<Row> rows = out.collectAsList();
        assertEquals(4, rows.size());
        assertEquals(List.of(15f, 3f, 1f, -1f), rows.get(0).getList(2));
        assertTrue(rows.get(1).isNullAt(2));
        assertTrue(rows.get(1).isNullAt(3));
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
    void failingRowFailsTheJobWithoutErrorColumn() {
        TextEmbedderTransformer t = new TextEmbedderTransformer().setInputCol("text");
        Exception e = assertThrows(Exception.class, () -> t.transform(df).collectAsList());
        assertTrue(String.valueOf(e.getMessage()).contains("poisoned text"), e.getMessage());
    }

    @Test
    void scorerTransformerStruct() {
        TextScorerTransformer t = new TextScorerTransformer().setInputCol("text").setPerToken(true).setErrorCol("err");
        Dataset<Row> out = t.transform(df.where("id <> 3")).orderBy("id");
        assertEquals(TextScorerTransformer.scoreType(true), out.schema().apply("score").dataType());
        Row first = out.first().getStruct(2);
        assertEquals(3, first.getInt(0));
        assertEquals(4.5, first.getDouble(1), 1e-12);
        assertEquals(List.of(1, 3, 4, 5), first.getList(3));
        List<Row> nll = out.select("score.nll").collectAsList();
        assertTrue(nll.get(1).isNullAt(0));
    }

    @Test
    void schemaValidation() {
        assertThrows(IllegalArgumentException.class,
                () -> new TextEmbedderTransformer().setInputCol("nope").transformSchema(df.schema()));
        assertThrows(IllegalArgumentException.class,
                () -> new TextEmbedderTransformer().setInputCol("id").transformSchema(df.schema()));
        assertThrows(IllegalArgumentException.class,
                () -> new TextEmbedderTransformer().setInputCol("text").setOutputCol("id").transformSchema(df.schema()));
    }

    @Test
    void saveAndLoad(@TempDir Path dir) throws Exception {
        TextScorerTransformer t = new TextScorerTransformer().setModelDir("/m").setAttentionChunk(64).setOutputCol("s");
        t.save(dir.resolve("t").toString());
        TextScorerTransformer back = TextScorerTransformer.load(dir.resolve("t").toString());
        assertEquals(t.uid(), back.uid());
        assertEquals("/m", back.modelOptions().modelDir());
        assertEquals(64, back.modelOptions().attentionChunk());
        assertEquals("s", back.getOutputCol());
    }
}
