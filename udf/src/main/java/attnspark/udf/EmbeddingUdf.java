package attnspark.udf;

import attnspark.api.EmbeddingResult;
import attnspark.api.ModelOptions;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;

import java.util.List;

/**
 * SQL / DataFrame UDF {@code embed(text) -> array<float>} backed by this executor's replica.
 * Null text gives null (empty text embeds as HF does); a model failure fails the query (use
 * {@link attnspark.udf.ml.TextEmbedderTransformer} with an error column, or the embed job, for
 * per-row error reporting). The UDF is called row by row, so for throughput prefer the
 * transformer, which batches a whole partition per model call.
 * <pre>
 *   EmbeddingUdf.register(spark, "embed", ModelOptions.defaults());
 *   spark.sql("SELECT id, embed(text) AS embedding FROM docs");
 * </pre>
 */
public final class EmbeddingUdf {
    private EmbeddingUdf() {
    }

    /** Registers {@code name(text)} for SQL and returns it for DataFrame use ({@code udf.apply(col("text"))}). */
    public static UserDefinedFunction register(SparkSession spark, String name, ModelOptions options) {
        return spark.udf().register(name, create(options));
    }

    /** The UDF without registering it. */
    public static UserDefinedFunction create(ModelOptions options) {
        ModelOptions opts = options == null ? ModelOptions.defaults() : options;
        UDF1<String, float[]> fn = text -> {
            if (text == null) {
                return null;
            }
            GpuBinding.bindCurrentTask();
            try (var threads = TaskThreads.open()) {
                List<EmbeddingResult> r = ModelReplicas.embedder(opts).embed(List.of(text));
                return r.get(0).vector();
            }
        };
        return org.apache.spark.sql.functions.udf(fn, DataTypes.createArrayType(DataTypes.FloatType, false));
    }
}
