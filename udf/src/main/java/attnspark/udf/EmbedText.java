package attnspark.udf;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataType;

/**
 * SQL / PySpark UDF {@code embed(text) -> array<float>}: the embed job's vector for one text,
 * with the embed job's options read from the {@code spark.attnspark.*} keys of the session
 * that registers it (see {@link UdfSettings}; needs the job jar on the class path).
 * <pre>
 *   spark.udf().registerJava("embed", "attnspark.udf.EmbedText", EmbedText.RETURN_TYPE);
 *   spark.sql("SELECT id, embed(text) AS embedding FROM docs");
 * </pre>
 * Null text gives null; empty text is embedded, as the job does. A text the model fails on
 * fails the query, with a message naming the text's length and the cause: a UDF returns one
 * value and has no error column (use {@code TextEmbedderTransformer} or the embed job to keep
 * going with an error column per row). The UDF is called a row at a time; for throughput prefer
 * the transformer or the job, which batch a partition's texts per model call.
 */
public final class EmbedText implements UDF1<String, float[]> {
    private static final long serialVersionUID = 1L;
    /** {@code array<float>}, the embed job's {@code embedding} column. */
    public static final DataType RETURN_TYPE =
            OutputSchemas.embed().apply(OutputSchemas.EMBEDDING).dataType();

    private final EmbedPartitionFunction job;

    /**
     * What {@code registerJava} calls, on the driver: the options are resolved here, from the
     * active session's conf, and travel to the executors with this object (they have no session).
     */
    public EmbedText() {
        this(UdfSettings.find().embedFunction(UdfSettings.activeSessionConf()));
    }

    public EmbedText(EmbedPartitionFunction job) {
        this.job = job;
    }

    /** Registers {@code name(text)} on {@code spark} as PySpark's {@code registerJavaFunction} does. */
    public static void register(SparkSession spark, String name) {
        SparkSession.setActiveSession(spark); // registerJava's EmbedText() reads the active session
        spark.udf().registerJava(name, EmbedText.class.getName(), RETURN_TYPE);
    }

    @Override
    public float[] call(String text) {
        if (text == null) {
            return null;
        }
        Row row = UdfRows.run(job, text);
        int error = job.outputSchema().fieldIndex(OutputSchemas.ERROR);
        if (!row.isNullAt(error)) {
            throw new IllegalArgumentException(
                    "EmbedText: embedding a text of " + text.length() + " characters failed: "
                            + row.getString(error) + ". The UDF has no error column; use TextEmbedderTransformer or"
                            + " 'attnspark embed' to get one error row instead of a failed query");
        }
        return (float[]) row.get(job.outputSchema().fieldIndex(OutputSchemas.EMBEDDING));
    }
}
