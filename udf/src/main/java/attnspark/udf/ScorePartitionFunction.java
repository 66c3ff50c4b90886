package attnspark.udf;

import attnspark.api.ModelOptions;
import attnspark.api.ScoreResult;
import attnspark.api.TextScorer;
import java.util.List;
import java.util.function.Function;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructType;

/** Normalised input rows to {@link OutputSchemas#score(boolean)} rows, batched per partition. */
public class ScorePartitionFunction extends DocPartitionFunction<ScoreResult> {
    private static final long serialVersionUID = 1L;
    private final boolean perToken;

    public ScorePartitionFunction(
            ModelOptions options, String idName, String textName, int chunkRows, boolean perToken) {
        super(options, idName, textName, chunkRows);
        this.perToken = perToken;
    }

    @Override
    protected Function<List<String>, List<ScoreResult>> model() {
        TextScorer scorer = ModelReplicas.scorer(options);
        return texts -> {
            List<ScoreResult> scores = scorer.score(texts, perToken);
            for (ScoreResult r : scores) {
                // fails the batch (its rows become error rows), never the partition
                if (r != null && r.text() == null) {
                    throw new IllegalStateException(scorer.getClass().getName() + " returned a score without its text's"
                            + " bytes and words; TextScorer.score must return ScoreResult.withText(text)");
                }
            }
            return scores;
        };
    }

    @Override
    public StructType outputSchema() {
        return OutputSchemas.score(perToken);
    }

    @Override
    protected int tokens(ScoreResult r) {
        return r.nTokens();
    }

    @Override
    protected int batchedLength(ScoreResult r) {
        return r.nTokens() + 1; // the scored tokens plus the BOS (or first token) they are conditioned on
    }

    @Override
    protected double loadSeconds() {
        return ModelReplicas.scorerLoadSeconds(options);
    }

    @Override
    protected Row okRow(String id, ScoreResult r) {
        Long bytes = r.text().nBytes(), words = r.text().nWords();
        if (perToken) {
            return RowFactory.create(
                    id,
                    r.nTokens(),
                    r.nll(),
                    r.ppl(),
                    bytes,
                    words,
                    r.bitsPerByte(),
                    r.truncated(),
                    null,
                    r.tokenIds(),
                    r.tokenLogprobs());
        }
        return RowFactory.create(id, r.nTokens(), r.nll(), r.ppl(), bytes, words, r.bitsPerByte(), r.truncated(), null);
    }

    @Override
    protected Row errorRow(String id, String error) {
        if (perToken) {
            return RowFactory.create(id, null, null, null, null, null, null, null, error, null, null);
        }
        return RowFactory.create(id, null, null, null, null, null, null, null, error);
    }
}
