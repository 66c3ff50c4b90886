package attnspark.models;

import attnspark.attention.AttentionInterface;

import java.util.Map;

/** What the embedders and scorers need of a model family. */
public interface TransformerModel {
    /** Last hidden state, packed (T, hiddenSize()). kwargs reach every attention call unchanged. */
    float[] forward(SequenceBatch batch, Map<String, Object> kwargs);

    int hiddenSize();

    int maxPositions();

    void setAttnImplementation(String name);

    String attnImplementation();

    /** The model's own registry instance: local overrides live here. */
    AttentionInterface attentionFunctions();
}
