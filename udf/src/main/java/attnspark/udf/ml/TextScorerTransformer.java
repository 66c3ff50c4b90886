package attnspark.udf.ml;

import attnspark.api.ModelOptions;
import attnspark.api.ScoreResult;
import attnspark.api.TextScorer;
import attnspark.udf.ModelReplicas;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Spark ML transformer: string column to a causal-LM score struct
 * {@code {n_tokens int, nll double, ppl double}} (+ {@code token_ids array<int>,
 * token_logprobs array<float>} with perToken), batched per partition. Needs a model directory.
 * <pre>
 *   new TextScorerTransformer().setModelDir("/models/stories260k").setInputCol("text")
 *       .setOutputCol("score").transform(df).select("score.nll", "score.ppl");
 * </pre>
 */
public class TextScorerTransformer extends ModelTransformer<TextScorerTransformer> {
    private static final long serialVersionUID = 1L;
    private final BooleanParam perToken;
    private final IntParam attentionChunk;

    public TextScorerTransformer() {
        this(Identifiable$.MODULE$.randomUID("textScorer"));
    }

    public TextScorerTransformer(String uid) {
        super(uid, "score");
        perToken = new BooleanParam(this, "perToken", "add token_ids and token_logprobs to the output struct");
        attentionChunk = new IntParam(this, "attentionChunk", "chunked causal attention size; 0 = off");
        setDefault(perToken, false);
        setDefault(attentionChunk, 0);
    }

    public BooleanParam perToken() { return perToken; }
    public IntParam attentionChunk() { return attentionChunk; }

    public TextScorerTransformer setPerToken(boolean v) { set(perToken, v); return this; }
    public TextScorerTransformer setAttentionChunk(int v) { set(attentionChunk, v); return this; }

    public boolean getPerToken() { return (Boolean) getOrDefault(perToken); }

    @Override
    protected void applyExtraOptions(ModelOptions o) {
        setAttentionChunk(o.attentionChunk());
    }

    @Override
    public ModelOptions modelOptions() {
        return super.modelOptions().withAttentionChunk((Integer) getOrDefault(attentionChunk));
    }

    /** The output struct type. */
    public static StructType scoreType(boolean perToken) {
        StructType t = new StructType()
                .add("n_tokens", DataTypes.IntegerType, true)
                .add("nll", DataTypes.DoubleType, true)
                .add("ppl", DataTypes.DoubleType, true);
        if (perToken) {
            t = t.add("token_ids", DataTypes.createArrayType(DataTypes.IntegerType, false), true)
                    .add("token_logprobs", DataTypes.createArrayType(DataTypes.FloatType, false), true);
        }
        return t;
    }

    @Override
    protected DataType outputType() {
        return scoreType(getPerToken());
    }

    @Override
    protected TransformPartitionFunction partitionFunction(int inputIndex, boolean withErrorCol) {
        return new ScoreFn(inputIndex, getInputCol(), withErrorCol, getChunkRows(), modelOptions(), getPerToken());
    }

    /** Static, so the task closure carries only the options, not the transformer. */
    private static final class ScoreFn extends TransformPartitionFunction {
        private static final long serialVersionUID = 1L;
        private final ModelOptions opts;
        private final boolean pt;

        ScoreFn(int inputIndex, String inputName, boolean withErrorCol, int chunkRows, ModelOptions opts, boolean pt) {
            super(inputIndex, inputName, withErrorCol, chunkRows);
            this.opts = opts;
            this.pt = pt;
        }

        @Override
        Function<List<String>, List<Object>> model() {
            TextScorer scorer = ModelReplicas.scorer(opts);
            return texts -> {
                List<ScoreResult> rs = scorer.score(texts, pt);
                List<Object> out = new ArrayList<>(rs.size());
                for (ScoreResult r : rs) {
                    out.add(r == null ? null : pt
                            ? RowFactory.create(r.nTokens(), r.nll(), r.ppl(), r.tokenIds(), r.tokenLogprobs())
                            : RowFactory.create(r.nTokens(), r.nll(), r.ppl()));
                }
                return out;
            };
        }
    }

    @Override
    public TextScorerTransformer copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    public static TextScorerTransformer load(String path) {
        return new DefaultParamsReader<TextScorerTransformer>().load(path);
    }
}
