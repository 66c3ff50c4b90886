package attnspark.udf.ml;

import attnspark.api.ModelOptions;
import attnspark.udf.DocPartitionFunction;
import attnspark.udf.OutputSchemas;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Shared params and plumbing of the attnspark ML transformers. Every input column passes
 * through; the model's output ({@link #getOutputCol()}) and the error message
 * ({@link #getErrorCol()}, default {@code error}) are appended. Each model option of the CLI is
 * a param of the same name in camelCase ({@code --max-length} is {@code maxLength},
 * {@code --model} is {@code model}) with the CLI's default. Rows go through the job's own
 * partition function ({@link DocPartitionFunction}), a partition at a time, {@code chunkRows}
 * texts per model call, so null, empty and failing texts come out as they do in the CLI's
 * output: empty text is embedded/scored, null text and model failures are error rows (message in
 * the error column, output null). With {@code errorCol} set to "" there is no place for the
 * message and such a row fails the job instead. Saved with {@link DefaultParamsWritable}; each
 * subclass has the static {@code read()}/{@code load(path)} that {@code PipelineModel.load} calls.
 */
public abstract class ModelTransformer<T extends ModelTransformer<T>> extends Transformer
        implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;
    private final String uid;
    private final Param<String> inputCol;
    private final Param<String> outputCol;
    private final Param<String> errorCol;
    private final Param<String> idCol;
    private final Param<String> model;
    private final Param<String> attn;
    private final Param<String> kernelsDir;
    private final BooleanParam allowAllKernels;
    private final IntParam maxLength;
    private final IntParam batchTokens;
    private final IntParam chunkRows;

    protected ModelTransformer(String uid, String defaultOutputCol) {
        this.uid = uid;
        inputCol = new Param<>(this, "inputCol", "input text column (string); the CLI's --text-col");
        outputCol = new Param<>(this, "outputCol", "output column");
        errorCol = new Param<>(this, "errorCol", "error message column; \"\" = a failing row fails the job");
        idCol = new Param<>(
                this,
                "idCol",
                "column that names rows in error messages, as the CLI's --id-col;"
                        + " \"\" = rows are named by their position in the partition");
        model = new Param<>(
                this,
                "model",
                "model directory, Hadoop-FS URI or archive of one; \"\" = the bundled"
                        + " all-MiniLM-L6-v2 (the CLI's --model)");
        attn = new Param<>(this, "attn", "attention implementation name (the CLI's --attn)");
        kernelsDir =
                new Param<>(this, "kernelsDir", "directory of attention-kernel jars for org/repo names; \"\" = none");
        allowAllKernels = new BooleanParam(
                this, "allowAllKernels", "load kernels outside the trusted kernels-community namespace");
        maxLength = new IntParam(
                this, "maxLength", "max tokens per text; 0 = the model's maximum", ParamValidators.gtEq(0));
        batchTokens = new IntParam(this, "batchTokens", "token budget of one forward batch", ParamValidators.gtEq(1));
        chunkRows = new IntParam(this, "chunkRows", "texts per model call", ParamValidators.gtEq(1));
        ModelOptions d = ModelOptions.defaults();
        setDefault(inputCol, OutputSchemas.TEXT);
        setDefault(outputCol, defaultOutputCol);
        setDefault(errorCol, OutputSchemas.ERROR);
        setDefault(idCol, "");
        setDefault(model, "");
        setDefault(attn, d.attn());
        setDefault(kernelsDir, "");
        setDefault(allowAllKernels, d.allowAllKernels());
        setDefault(maxLength, d.maxLength());
        setDefault(batchTokens, d.batchTokens());
        setDefault(chunkRows, DocPartitionFunction.DEFAULT_CHUNK_ROWS);
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> inputCol() {
        return inputCol;
    }

    public Param<String> outputCol() {
        return outputCol;
    }

    public Param<String> errorCol() {
        return errorCol;
    }

    public Param<String> idCol() {
        return idCol;
    }

    public Param<String> model() {
        return model;
    }

    public Param<String> attn() {
        return attn;
    }

    public Param<String> kernelsDir() {
        return kernelsDir;
    }

    public BooleanParam allowAllKernels() {
        return allowAllKernels;
    }

    public IntParam maxLength() {
        return maxLength;
    }

    public IntParam batchTokens() {
        return batchTokens;
    }

    public IntParam chunkRows() {
        return chunkRows;
    }

    public String getInputCol() {
        return getOrDefault(inputCol);
    }

    public String getOutputCol() {
        return getOrDefault(outputCol);
    }

    public String getErrorCol() {
        return getOrDefault(errorCol);
    }

    public String getIdCol() {
        return getOrDefault(idCol);
    }

    public String getModel() {
        return getOrDefault(model);
    }

    public int getChunkRows() {
        return (Integer) getOrDefault(chunkRows);
    }

    protected T self() {
        @SuppressWarnings("unchecked")
        T t = (T) this;
        return t;
    }

    public T setInputCol(String v) {
        set(inputCol, v);
        return self();
    }

    public T setOutputCol(String v) {
        set(outputCol, v);
        return self();
    }

    public T setErrorCol(String v) {
        set(errorCol, v == null ? "" : v);
        return self();
    }

    public T setIdCol(String v) {
        set(idCol, v == null ? "" : v);
        return self();
    }

    public T setModel(String v) {
        set(model, v == null ? "" : v);
        return self();
    }

    public T setAttn(String v) {
        set(attn, v);
        return self();
    }

    public T setKernelsDir(String v) {
        set(kernelsDir, v == null ? "" : v);
        return self();
    }

    public T setAllowAllKernels(boolean v) {
        set(allowAllKernels, v);
        return self();
    }

    public T setMaxLength(int v) {
        set(maxLength, v);
        return self();
    }

    public T setBatchTokens(int v) {
        set(batchTokens, v);
        return self();
    }

    public T setChunkRows(int v) {
        set(chunkRows, v);
        return self();
    }

    /**
     * Sets every model param from {@code o}, e.g. the options the CLI or the UDFs resolved
     * ({@code UdfSettings}), so a transformer can be configured exactly as a job run.
     */
    public T setModelOptions(ModelOptions o) {
        setModel(o.modelDir());
        setAttn(o.attn());
        setKernelsDir(o.kernelsDir());
        setAllowAllKernels(o.allowAllKernels());
        setMaxLength(o.maxLength());
        setBatchTokens(o.batchTokens());
        setCommandOptions(o);
        return self();
    }

    /** Sets the params only one command has (pooling for embed, window for score, ...). */
    protected abstract void setCommandOptions(ModelOptions o);

    /** The options the executors' model replica is built from (and cached by). */
    public ModelOptions modelOptions() {
        return ModelOptions.defaults()
                .withModelDir(orNull(getModel()))
                .withAttn(getOrDefault(attn))
                .withKernelsDir(orNull(getOrDefault(kernelsDir)))
                .withAllowAllKernels((Boolean) getOrDefault(allowAllKernels))
                .withMaxLength((Integer) getOrDefault(maxLength))
                .withBatchTokens((Integer) getOrDefault(batchTokens));
    }

    static String orNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    /** The job's partition function for these options; its rows are {@link DocPartitionFunction#outputSchema()}. */
    protected abstract DocPartitionFunction<?> jobFunction();

    /** The output column's type. */
    protected abstract DataType outputType();

    /** How the output column's value is taken from a successful job row; must not capture the transformer. */
    protected abstract TransformPartitionFunction.OutputValue outputValue();

    /**
     * Option combinations the model load would refuse, checked on the driver (transformSchema runs
     * there before any task), so a bad setting fails the call rather than every task; null if fine.
     */
    protected String optionsMisfit() {
        return null;
    }

    @Override
    public StructType transformSchema(StructType schema) {
        String misfit = optionsMisfit();
        if (misfit != null) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": " + misfit);
        }
        List<String> names = Arrays.asList(schema.fieldNames());
        String in = getInputCol();
        if (!names.contains(in)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": input column '" + in + "' not found"
                    + " (columns: " + String.join(", ", names) + "); name the text column with setInputCol");
        }
        DataType t = schema.apply(in).dataType();
        if (!t.equals(DataTypes.StringType)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": input column '" + in
                    + "' must be a string, is " + t.simpleString() + "; cast it first");
        }
        if (!getIdCol().isEmpty() && !names.contains(getIdCol())) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": id column '" + getIdCol()
                    + "' not found (columns: " + String.join(", ", names) + "); set idCol to one of them or to \"\"");
        }
        StructType out = schema;
        for (String name : outputNames()) {
            if (names.contains(name)) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ": output column '" + name
                        + "' is already an input column; choose another name with setOutputCol/setErrorCol");
            }
        }
        out = out.add(getOutputCol(), outputType(), true);
        if (!getErrorCol().isEmpty()) {
            out = out.add(getErrorCol(), DataTypes.StringType, true);
        }
        return out;
    }

    private List<String> outputNames() {
        List<String> out = new ArrayList<>(List.of(getOutputCol()));
        if (!getErrorCol().isEmpty()) {
            out.add(getErrorCol());
        }
        return out;
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType schema = dataset.schema();
        StructType outSchema = transformSchema(schema);
        TransformPartitionFunction fn = new TransformPartitionFunction(
                jobFunction(),
                outputValue(),
                schema.fieldIndex(getInputCol()),
                getIdCol().isEmpty() ? -1 : schema.fieldIndex(getIdCol()),
                !getErrorCol().isEmpty());
        return dataset.toDF().mapPartitions(fn, Encoders.row(outSchema));
    }
}
