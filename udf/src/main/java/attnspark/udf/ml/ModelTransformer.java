package attnspark.udf.ml;

import attnspark.api.ModelOptions;
import attnspark.udf.DocPartitionFunction;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.Arrays;

/**
 * Shared params and plumbing of the attnspark ML transformers: a string input column, an
 * output column, an optional error column, and the model options. Rows are processed per
 * partition (mapPartitions), {@code chunkRows} texts per model call, through the executor's
 * model replica. Null/empty input text gives a null output. When {@code errorCol} is set,
 * failures become a message in that column (output null); when it is not set, a failing row
 * fails the job.
 */
public abstract class ModelTransformer<T extends ModelTransformer<T>> extends Transformer implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;
    private final String uid;
    private final Param<String> inputCol;
    private final Param<String> outputCol;
    private final Param<String> errorCol;
    private final Param<String> modelDir;
    private final Param<String> attn;
    private final IntParam maxLength;
    private final IntParam batchTokens;
    private final IntParam chunkRows;

    protected ModelTransformer(String uid, String defaultOutputCol) {
        this.uid = uid;
        inputCol = new Param<>(this, "inputCol", "input text column (string)");
        outputCol = new Param<>(this, "outputCol", "output column");
        errorCol = new Param<>(this, "errorCol", "error message column; empty = a failing row fails the job");
        modelDir = new Param<>(this, "modelDir", "model directory; empty = the default model");
        attn = new Param<>(this, "attn", "attention implementation name");
        maxLength = new IntParam(this, "maxLength", "max tokens per text; 0 = model default");
        batchTokens = new IntParam(this, "batchTokens", "token budget of one forward batch");
        chunkRows = new IntParam(this, "chunkRows", "texts per model call");
        ModelOptions d = ModelOptions.defaults();
        setDefault(inputCol, "text");
        setDefault(outputCol, defaultOutputCol);
        setDefault(errorCol, "");
        setDefault(modelDir, "");
        setDefault(attn, d.attn());
        setDefault(maxLength, d.maxLength());
        setDefault(batchTokens, d.batchTokens());
        setDefault(chunkRows, DocPartitionFunction.DEFAULT_CHUNK_ROWS);
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> inputCol() { return inputCol; }
    public Param<String> outputCol() { return outputCol; }
    public Param<String> errorCol() { return errorCol; }
    public Param<String> modelDir() { return modelDir; }
    public Param<String> attn() { return attn; }
    public IntParam maxLength() { return maxLength; }
    public IntParam batchTokens() { return batchTokens; }
    public IntParam chunkRows() { return chunkRows; }

    public String getInputCol() { return getOrDefault(inputCol); }
    public String getOutputCol() { return getOrDefault(outputCol); }
    public String getErrorCol() { return getOrDefault(errorCol); }
    public String getModelDir() { return getOrDefault(modelDir); }
    public String getAttn() { return getOrDefault(attn); }
    public int getMaxLength() { return (Integer) getOrDefault(maxLength); }
    public int getBatchTokens() { return (Integer) getOrDefault(batchTokens); }
    public int getChunkRows() { return (Integer) getOrDefault(chunkRows); }

    protected T self() {
        @SuppressWarnings("unchecked") T t = (T) this;
        return t;
    }

    public T setInputCol(String v) { set(inputCol, v); return self(); }
    public T setOutputCol(String v) { set(outputCol, v); return self(); }
    public T setErrorCol(String v) { set(errorCol, v == null ? "" : v); return self(); }
    public T setModelDir(String v) { set(modelDir, v == null ? "" : v); return self(); }
    public T setAttn(String v) { set(attn, v); return self(); }
    public T setMaxLength(int v) { set(maxLength, v); return self(); }
    public T setBatchTokens(int v) { set(batchTokens, v); return self(); }
    public T setChunkRows(int v) { set(chunkRows, v); return self(); }

    /** Sets the model params from {@code o} (fields this transformer has). */
    public T setModelOptions(ModelOptions o) {
        setModelDir(o.modelDir());
        setAttn(o.attn());
        setMaxLength(o.maxLength());
        setBatchTokens(o.batchTokens());
        applyExtraOptions(o);
        return self();
    }

    protected abstract void applyExtraOptions(ModelOptions o);

    /** The options the replica is keyed by. */
    public ModelOptions modelOptions() {
        String dir = getModelDir();
        return ModelOptions.defaults()
                .withModelDir(dir == null || dir.isEmpty() ? null : dir)
                .withAttn(getAttn())
                .withMaxLength(getMaxLength())
                .withBatchTokens(getBatchTokens());
    }

    protected abstract DataType outputType();

    protected abstract TransformPartitionFunction partitionFunction(int inputIndex, boolean withErrorCol);

    @Override
    public StructType transformSchema(StructType schema) {
        String in = getInputCol();
        if (!Arrays.asList(schema.fieldNames()).contains(in)) {
            throw new IllegalArgumentException("input column '" + in + "' not found; columns: "
                    + String.join(", ", schema.fieldNames()));
        }
        DataType t = schema.apply(in).dataType();
        if (!t.equals(DataTypes.StringType)) {
            throw new IllegalArgumentException("input column '" + in + "' must be a string, is " + t.simpleString());
        }
        StructType out = schema;
        for (String name : outputNames()) {
            if (Arrays.asList(schema.fieldNames()).contains(name)) {
                throw new IllegalArgumentException("output column '" + name + "' already exists");
            }
        }
        out = out.add(new StructField(getOutputCol(), outputType(), true, Metadata.empty()));
        if (!getErrorCol().isEmpty()) {
            out = out.add(DataTypes.createStructField(getErrorCol(), DataTypes.StringType, true));
        }
        return out;
    }

    private String[] outputNames() {
        return getErrorCol().isEmpty() ? new String[]{getOutputCol()} : new String[]{getOutputCol(), getErrorCol()};
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType outSchema = transformSchema(dataset.schema());
        int inputIndex = dataset.schema().fieldIndex(getInputCol());
        return dataset.toDF().mapPartitions(partitionFunction(inputIndex, !getErrorCol().isEmpty()),
                Encoders.row(outSchema));
    }
}
