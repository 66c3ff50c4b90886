package attnspark.api;

/**
 * One text's embedding.
 *
 * @param vector    pooled (and, if asked, L2-normalised) embedding, length = dimension
 * @param nTokens   tokens the model saw, special tokens included, after truncation
 * @param truncated true when the text had more tokens than max length and was cut
 */
public record EmbeddingResult(float[] vector, int nTokens, boolean truncated) {
}
