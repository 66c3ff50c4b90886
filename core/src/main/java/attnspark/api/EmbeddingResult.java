package attnspark.api;

/**
 * One text's embedding.
 *
 * @param vector    pooled (and, if asked, L2-normalised) embedding, length = dimension
 * @param nTokens   tokens the model saw, special tokens included, after truncation
 * @param truncated true when the text had more tokens than max length and was cut
 */
public record EmbeddingResult(float[] vector, int nTokens, boolean truncated) {
    /** A NaN or infinite embedding is an error for its row, never a value (it would poison every similarity). */
    public EmbeddingResult {
        for (int i = 0; i < vector.length; i++) {
            if (!Float.isFinite(vector[i])) {
                throw new ArithmeticException(
                        "the embedding is not finite (dimension " + i + " of " + vector.length + " is " + vector[i]
                                + "): the model computed NaN/Inf for this text; check the model's weights and config");
            }
        }
    }
}
