package attnspark.udf;

import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** The rows the embed and score jobs write (see datasets/schemas/ and the README). */
public final class OutputSchemas {
    private OutputSchemas() {}

    /** {@code id, embedding array<float>, n_tokens int, truncated boolean, error string}. */
    public static StructType embed() {
        return new StructType(new StructField[] {
            DataTypes.createStructField("id", DataTypes.StringType, true),
            DataTypes.createStructField("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), true),
            DataTypes.createStructField("n_tokens", DataTypes.IntegerType, true),
            DataTypes.createStructField("truncated", DataTypes.BooleanType, true),
            DataTypes.createStructField("error", DataTypes.StringType, true),
        });
    }

    /**
     * {@code id, n_tokens int, nll double, ppl double, n_bytes long, n_words long,
     * bits_per_byte double, truncated boolean, error string}, plus
     * {@code token_ids array<int>, token_logprobs array<float>} when per-token output is on.
     * n_bytes, n_words and bits_per_byte are {@link attnspark.api.ScoreResult#text()} and
     * {@link attnspark.api.ScoreResult#bitsPerByte()}: summed over rows they give corpus-level
     * bits per byte, byte and word perplexity (README, "Scoring").
     */
    public static StructType score(boolean perToken) {
        StructType s = new StructType(new StructField[] {
            DataTypes.createStructField("id", DataTypes.StringType, true),
            DataTypes.createStructField("n_tokens", DataTypes.IntegerType, true),
            DataTypes.createStructField("nll", DataTypes.DoubleType, true),
            DataTypes.createStructField("ppl", DataTypes.DoubleType, true),
            DataTypes.createStructField("n_bytes", DataTypes.LongType, true),
            DataTypes.createStructField("n_words", DataTypes.LongType, true),
            DataTypes.createStructField("bits_per_byte", DataTypes.DoubleType, true),
            DataTypes.createStructField("truncated", DataTypes.BooleanType, true),
            DataTypes.createStructField("error", DataTypes.StringType, true),
        });
        if (perToken) {
            s = s.add(DataTypes.createStructField(
                            "token_ids", DataTypes.createArrayType(DataTypes.IntegerType, false), true))
                    .add(DataTypes.createStructField(
                            "token_logprobs", DataTypes.createArrayType(DataTypes.FloatType, false), true));
        }
        return s;
    }

    /**
     * {@code schema} without the named columns: how the UDFs and transformers derive their types
     * from the job rows (e.g. {@code without(score(false), ID)} is ScoreText's struct), so score
     * columns are declared once, here.
     */
    public static StructType without(StructType schema, String... names) {
        Set<String> drop = Set.of(names);
        StructType out = new StructType();
        for (StructField f : schema.fields()) {
            if (!drop.contains(f.name())) {
                out = out.add(f);
            }
        }
        return out;
    }

    /** The values of {@code row} (laid out as {@code from}) for the columns {@code to} names, in {@code to}'s order. */
    public static Row project(Row row, StructType from, StructType to) {
        Object[] values = new Object[to.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = row.get(from.fieldIndex(to.fields()[i].name()));
        }
        return RowFactory.create(values);
    }

    /**
     * The normalised input the partition functions read: {@code id, text, _corrupt_record} (all
     * strings). Rows may carry more columns after these three (kept input columns, see
     * {@link DocPartitionFunction}); they are appended to the output row unchanged.
     */
    public static StructType input() {
        return new StructType(new StructField[] {
            DataTypes.createStructField(ID, DataTypes.StringType, true),
            DataTypes.createStructField(TEXT, DataTypes.StringType, true),
            DataTypes.createStructField(CORRUPT, DataTypes.StringType, true),
        });
    }

    public static final String ID = "id";
    public static final String TEXT = "text";
    /** Spark's default name for the raw text of a malformed JSON/CSV record (PERMISSIVE mode). */
    public static final String CORRUPT = "_corrupt_record";
    /** The output columns the UDFs and transformers pick out by name. */
    public static final String EMBEDDING = "embedding";

    public static final String ERROR = "error";
}
