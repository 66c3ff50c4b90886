package attnspark.udf;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.StructType;

/**
 * SQL / PySpark UDF {@code score(text) -> struct}: the score job's columns for one text, less
 * {@code id} ({@link #returnType()}: {@code n_tokens, nll, ppl, truncated, error, ...}; with
 * {@code spark.attnspark.per-token=true} also {@code token_ids, token_logprobs}), with the
 * score job's options read from the {@code spark.attnspark.*} keys of the session that
 * registers it (see {@link UdfSettings}; {@code spark.attnspark.model} is required).
 * <pre>
 *   ScoreText.register(spark, "score");
 *   spark.sql("SELECT id, score(text).nll FROM docs");
 * </pre>
 * Null text gives null; empty text is scored, as the job does. A text the model fails on gives
 * a struct whose {@code error} holds the message and whose other fields are null, as the job's
 * error rows. Called a row at a time; for throughput prefer the transformer or the job.
 */
public final class ScoreText implements UDF1<String, Row> {
    private static final long serialVersionUID = 1L;
    private final ScorePartitionFunction job;
    private final StructType returnType;

    /** What {@code registerJava} calls, on the driver: options from the active session's conf (see {@link EmbedText#EmbedText()}). */
    public ScoreText() {
        this(UdfSettings.find().scoreFunction(UdfSettings.activeSessionConf()));
    }

    public ScoreText(ScorePartitionFunction job) {
        this.job = job;
        this.returnType = OutputSchemas.without(job.outputSchema(), OutputSchemas.ID);
    }

    /** The score job's columns less {@code id}; give it to {@code registerJava} (it cannot infer a struct). */
    public StructType returnType() {
        return returnType;
    }

    /** Registers {@code name(text)} on {@code spark}, with the return type of the session's settings. */
    public static void register(SparkSession spark, String name) {
        StructType type = new ScoreText(UdfSettings.find().scoreFunction(UdfSettings.conf(spark))).returnType();
        SparkSession.setActiveSession(spark); // registerJava's ScoreText() reads the active session
        spark.udf().registerJava(name, ScoreText.class.getName(), type);
    }

    @Override
    public Row call(String text) {
        if (text == null) {
            return null;
        }
        return OutputSchemas.project(UdfRows.run(job, text), job.outputSchema(), returnType);
    }
}
