package attnspark.udf.ml;

import attnspark.api.ModelOptions;
import attnspark.api.ScoringMode;
import attnspark.udf.DocPartitionFunction;
import attnspark.udf.OutputSchemas;
import attnspark.udf.ScorePartitionFunction;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;

/**
 * Spark ML transformer: a string column to a causal-LM score struct, the score job's columns
 * without {@code id} and {@code error} ({@link #scoreType}: {@code n_tokens, nll, ppl,
 * truncated, ...}, plus {@code token_ids, token_logprobs} with perToken), batched per
 * partition. Params as in {@link ModelTransformer}, plus the score options
 * {@code attentionChunk}, {@code mode}, {@code window}, {@code stride} and {@code perToken} (the
 * CLI's {@code --mode}: left unset, a window means hf-strided, as on the command line). Needs a model.
 * <pre>
 *   new TextScorerTransformer().setModel("/models/stories260k").setInputCol("text")
 *       .setOutputCol("score").transform(df).select("score.nll", "score.ppl");
 * </pre>
 */
public class TextScorerTransformer extends ModelTransformer<TextScorerTransformer> {
    private static final long serialVersionUID = 1L;
    private final BooleanParam perToken;
    private final IntParam attentionChunk;
    private final Param<String> mode;
    private final IntParam window;
    private final IntParam stride;

    public TextScorerTransformer() {
        this(Identifiable$.MODULE$.randomUID("textScorer"));
    }

    public TextScorerTransformer(String uid) {
        super(uid, "score");
        perToken = new BooleanParam(this, "perToken", "add token_ids and token_logprobs to the output struct");
        attentionChunk = new IntParam(
                this, "attentionChunk", "chunked causal attention of N tokens; 0 = off", ParamValidators.gtEq(0));
        mode = new Param<>(
                this,
                "mode",
                "how documents become forwards: full, hf-strided or lm-eval-rolling",
                ParamValidators.inArray(new String[] {"full", "hf-strided", "lm-eval-rolling"}));
        window = new IntParam(
                this,
                "window",
                "the scoring window: W of hf-strided, L of lm-eval-rolling; 0 = off",
                ParamValidators.gtEq(0));
        stride = new IntParam(this, "stride", "how far the window context moves; 0 = off", ParamValidators.gtEq(0));
        ModelOptions d = ModelOptions.defaults();
        setDefault(perToken, false);
        setDefault(attentionChunk, d.attentionChunk());
        setDefault(window, d.window());
        setDefault(stride, d.stride());
    }

    public BooleanParam perToken() {
        return perToken;
    }

    public IntParam attentionChunk() {
        return attentionChunk;
    }

    public Param<String> mode() {
        return mode;
    }

    public IntParam window() {
        return window;
    }

    public IntParam stride() {
        return stride;
    }

    public TextScorerTransformer setPerToken(boolean v) {
        set(perToken, v);
        return this;
    }

    public TextScorerTransformer setAttentionChunk(int v) {
        set(attentionChunk, v);
        return this;
    }

    public TextScorerTransformer setWindow(int w, int s) {
        set(window, w);
        set(stride, s);
        return this;
    }
    /** {@code full}, {@code hf-strided} or {@code lm-eval-rolling} (README, "Scoring"). */
    public TextScorerTransformer setMode(String m) {
        set(mode, m);
        return this;
    }

    public boolean getPerToken() {
        return (Boolean) getOrDefault(perToken);
    }

    @Override
    protected void setCommandOptions(ModelOptions o) {
        setAttentionChunk(o.attentionChunk());
        setWindow(o.window(), o.stride());
        setMode(o.mode().cliName());
    }

    @Override
    public ModelOptions modelOptions() {
        ModelOptions o = super.modelOptions().withAttentionChunk((Integer) getOrDefault(attentionChunk));
        int w = (Integer) getOrDefault(window), s = (Integer) getOrDefault(stride);
        return isSet(mode) ? o.withScoring(ScoringMode.fromCliName(getOrDefault(mode)), w, s) : o.withWindow(w, s);
    }

    /** The mode/window/stride rules of the CLI ({@link ScoringMode#misfit}), named by their CLI options. */
    @Override
    protected String optionsMisfit() {
        ModelOptions o = modelOptions();
        return o.mode().misfit(o.window(), o.stride());
    }

    /** The output struct: the score job's columns without id and error. */
    public static StructType scoreType(boolean perToken) {
        return OutputSchemas.without(OutputSchemas.score(perToken), OutputSchemas.ID, OutputSchemas.ERROR);
    }

    @Override
    protected DocPartitionFunction<?> jobFunction() {
        return new ScorePartitionFunction(modelOptions(), getIdCol(), getInputCol(), getChunkRows(), getPerToken());
    }

    @Override
    protected DataType outputType() {
        return scoreType(getPerToken());
    }

    @Override
    protected TransformPartitionFunction.OutputValue outputValue() {
        StructType type = scoreType(getPerToken());
        return (jobRow, jobSchema) -> OutputSchemas.project(jobRow, jobSchema, type);
    }

    @Override
    public TextScorerTransformer copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    /** What {@code PipelineModel.load} calls (through reflection) to read a saved stage. */
    public static MLReader<TextScorerTransformer> read() {
        return new DefaultParamsReader<>();
    }

    public static TextScorerTransformer load(String path) {
        return read().load(path);
    }
}
