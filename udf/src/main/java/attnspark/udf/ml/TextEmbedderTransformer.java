package attnspark.udf.ml;

import attnspark.api.ModelOptions;
import attnspark.udf.DocPartitionFunction;
import attnspark.udf.EmbedPartitionFunction;
import attnspark.udf.OutputSchemas;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.DataType;

/**
 * Spark ML transformer: a string column to an {@code array<float>} embedding column (the embed
 * job's {@code embedding}), batched per partition through the executor's replica (default
 * model: the bundled all-MiniLM-L6-v2). Params as in {@link ModelTransformer}, plus the embed
 * options {@code pooling}, {@code normalize} and {@code bidirectional}.
 * <pre>
 *   new TextEmbedderTransformer().setInputCol("text").setOutputCol("embedding").transform(df);
 * </pre>
 */
public class TextEmbedderTransformer extends ModelTransformer<TextEmbedderTransformer> {
    private static final long serialVersionUID = 1L;
    private final Param<String> pooling;
    private final Param<String> normalize;
    private final BooleanParam bidirectional;

    public TextEmbedderTransformer() {
        this(Identifiable$.MODULE$.randomUID("textEmbedder"));
    }

    public TextEmbedderTransformer(String uid) {
        super(uid, OutputSchemas.EMBEDDING);
        pooling = new Param<>(
                this, "pooling", "mean, cls or last; \"\" = the model's", ParamValidators.inArray(new String[] {
                    "", "mean", "cls", "last"
                }));
        normalize = new Param<>(
                this, "normalize", "true, false, or \"\" = the model's", ParamValidators.inArray(new String[] {
                    "", "true", "false"
                }));
        bidirectional = new BooleanParam(this, "bidirectional", "embed with a decoder made bidirectional");
        setDefault(pooling, "");
        setDefault(normalize, "");
        setDefault(bidirectional, false);
    }

    public Param<String> pooling() {
        return pooling;
    }

    public Param<String> normalize() {
        return normalize;
    }

    public BooleanParam bidirectional() {
        return bidirectional;
    }

    public TextEmbedderTransformer setPooling(String v) {
        set(pooling, v == null ? "" : v);
        return this;
    }

    public TextEmbedderTransformer setNormalize(Boolean v) {
        set(normalize, v == null ? "" : v.toString());
        return this;
    }

    public TextEmbedderTransformer setBidirectional(boolean v) {
        set(bidirectional, v);
        return this;
    }

    @Override
    protected void setCommandOptions(ModelOptions o) {
        setPooling(o.pooling());
        setNormalize(o.normalize());
        setBidirectional(o.bidirectional());
    }

    @Override
    public ModelOptions modelOptions() {
        String n = getOrDefault(normalize);
        return super.modelOptions()
                .withPooling(orNull(getOrDefault(pooling)))
                .withNormalize(n.isEmpty() ? null : Boolean.valueOf(n))
                .withBidirectional((Boolean) getOrDefault(bidirectional));
    }

    @Override
    protected DocPartitionFunction<?> jobFunction() {
        return new EmbedPartitionFunction(modelOptions(), getIdCol(), getInputCol(), getChunkRows());
    }

    @Override
    protected DataType outputType() {
        return OutputSchemas.embed().apply(OutputSchemas.EMBEDDING).dataType();
    }

    @Override
    protected TransformPartitionFunction.OutputValue outputValue() {
        return (jobRow, jobSchema) -> jobRow.get(jobSchema.fieldIndex(OutputSchemas.EMBEDDING));
    }

    @Override
    public TextEmbedderTransformer copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    /** What {@code PipelineModel.load} calls (through reflection) to read a saved stage. */
    public static MLReader<TextEmbedderTransformer> read() {
        return new DefaultParamsReader<>();
    }

    public static TextEmbedderTransformer load(String path) {
        return read().load(path);
    }
}
