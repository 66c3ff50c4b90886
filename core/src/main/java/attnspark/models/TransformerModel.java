package attnspark.models;

import attnspark.attention.dispatch.AttentionInterface;
import attnspark.batch.TokenBatch;
import attnspark.kernels.FloatSpan;
import java.util.Map;

/** What the embedders and scorers need of a model family. */
public interface TransformerModel {
    /** Last hidden state, packed (T, hiddenSize()). kwargs reach every attention call unchanged. */
    float[] forward(SequenceBatch batch, Map<String, Object> kwargs);

    /**
     * The packed entry the embedders and scorers call: last hidden state (T, hiddenSize()) of an
     * Arrow token batch, token t of the result being packed token t of the batch. This default
     * copies the ids out into a {@link SequenceBatch}; a model that reads ids, positions and
     * cu_seqlens in place overrides it.
     */
    default float[] forward(TokenBatch batch, Map<String, Object> kwargs) {
        return forward(SequenceBatch.of(batch), kwargs);
    }

    /**
     * {@link #forward(TokenBatch, Map)} for a caller that only reads the result, and only until its
     * thread's next call into the model (pooling): a model may hand out its own activation buffer
     * instead of a copy.
     */
    default FloatSpan hiddenStates(TokenBatch batch, Map<String, Object> kwargs) {
        return FloatSpan.of(forward(batch, kwargs));
    }

    int hiddenSize();

    int maxPositions();

    void setAttnImplementation(String name);

    String attnImplementation();

    /** The model's own registry instance: local overrides live here. */
    AttentionInterface attentionFunctions();
}
