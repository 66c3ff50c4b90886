package attnspark.udf.ml;

import attnspark.api.EmbeddingResult;
import attnspark.api.ModelOptions;
import attnspark.api.TextEmbedder;
import attnspark.udf.ModelReplicas;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Spark ML transformer: string column to {@code array<float>} embeddings, batched per
 * partition through the executor's replica (default model: the bundled all-MiniLM-L6-v2).
 * <pre>
 *   new TextEmbedderTransformer().setInputCol("text").setOutputCol("embedding")
 *       .setErrorCol("embed_error").transform(df);
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
        super(uid, "embedding");
        pooling = new Param<>(this, "pooling", "mean, cls or last; empty = model default");
        normalize = new Param<>(this, "normalize", "true, false or empty = model default");
        bidirectional = new BooleanParam(this, "bidirectional", "embed with a decoder made bidirectional");
        setDefault(pooling, "");
        setDefault(normalize, "");
        setDefault(bidirectional, false);
    }

    public Param<String> pooling() { return pooling; }
    public Param<String> normalize() { return normalize; }
    public BooleanParam bidirectional() { return bidirectional; }

    public TextEmbedderTransformer setPooling(String v) { set(pooling, v == null ? "" : v); return this; }
    public TextEmbedderTransformer setNormalize(Boolean v) { set(normalize, v == null ? "" : v.toString()); return this; }
    public TextEmbedderTransformer setBidirectional(boolean v) { set(bidirectional, v); return this; }

    @Override
    protected void applyExtraOptions(ModelOptions o) {
        setPooling(o.pooling());
        setNormalize(o.normalize());
        setBidirectional(o.bidirectional());
    }

    @Override
    public ModelOptions modelOptions() {
        String p = getOrDefault(pooling);
        String n = getOrDefault(normalize);
        return super.modelOptions()
                .withPooling(p.isEmpty() ? null : p)
                .withNormalize(n.isEmpty() ? null : Boolean.valueOf(n))
                .withBidirectional((Boolean) getOrDefault(bidirectional));
    }

    @Override
    protected DataType outputType() {
        return DataTypes.createArrayType(DataTypes.FloatType, false);
    }

    @Override
    protected TransformPartitionFunction partitionFunction(int inputIndex, boolean withErrorCol) {
        return new EmbedFn(inputIndex, getInputCol(), withErrorCol, getChunkRows(), modelOptions());
    }

    /** Static, so the task closure carries only the options, not the transformer. */
    private static final class EmbedFn extends TransformPartitionFunction {
        private static final long serialVersionUID = 1L;
        private final ModelOptions opts;

        EmbedFn(int inputIndex, String inputName, boolean withErrorCol, int chunkRows, ModelOptions opts) {
            super(inputIndex, inputName, withErrorCol, chunkRows);
            this.opts = opts;
        }

        @Override
        Function<List<String>, List<Object>> model() {
            TextEmbedder embedder = ModelReplicas.embedder(opts);
            return texts -> {
                List<EmbeddingResult> rs = embedder.embed(texts);
                List<Object> out = new ArrayList<>(rs.size());
                for (EmbeddingResult r : rs) {
                    out.add(r == null ? null : r.vector());
                }
                return out;
            };
        }
    }

    @Override
    public TextEmbedderTransformer copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    public static TextEmbedderTransformer load(String path) {
        return new DefaultParamsReader<TextEmbedderTransformer>().load(path);
    }
}
