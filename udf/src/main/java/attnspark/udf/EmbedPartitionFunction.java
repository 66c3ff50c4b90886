package attnspark.udf;

import attnspark.api.EmbeddingResult;
import attnspark.api.ModelOptions;
import attnspark.api.TextEmbedder;
import java.util.List;
import java.util.function.Function;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructType;

/** Normalised input rows to {@link OutputSchemas#embed()} rows, batched per partition. */
public class EmbedPartitionFunction extends DocPartitionFunction<EmbeddingResult> {
    private static final long serialVersionUID = 1L;

    public EmbedPartitionFunction(ModelOptions options, String idName, String textName, int chunkRows) {
        super(options, idName, textName, chunkRows);
    }

    @Override
    protected Function<List<String>, List<EmbeddingResult>> model() {
        TextEmbedder embedder = ModelReplicas.embedder(options);
        return embedder::embed;
    }

    @Override
    public StructType outputSchema() {
        return OutputSchemas.embed();
    }

    @Override
    protected int tokens(EmbeddingResult r) {
        return r.nTokens();
    }

    @Override
    protected int batchedLength(EmbeddingResult r) {
        return r.nTokens(); // special tokens included, as SentenceEmbedder plans its batches
    }

    @Override
    protected double loadSeconds() {
        return ModelReplicas.embedderLoadSeconds(options);
    }

    @Override
    protected Row okRow(String id, EmbeddingResult r) {
        if (r.vector() == null) {
            return errorRow(id, "row " + id + ": model returned no vector");
        }
        return RowFactory.create(id, r.vector(), r.nTokens(), r.truncated(), null);
    }

    @Override
    protected Row errorRow(String id, String error) {
        return RowFactory.create(id, null, null, null, error);
    }
}
