package attnspark.api;

/**
 * One document's causal-LM score. Every token after BOS is scored, conditioned on all before it.
 *
 * @param nTokens        scored tokens (= tokenIds.length - 1)
 * @param nll            sum over scored tokens of -log p(token | prefix), natural log
 * @param ppl            exp(nll / nTokens); NaN when nTokens == 0
 * @param tokenIds       every id including BOS; null unless per-token output was asked for
 * @param tokenLogprobs  log p of each scored token (length nTokens; NaN for a token a sliding window leaves
 *                       unscored); null unless asked for
 * @param truncated      true when the document was cut to the maximum length
 * @param text           bytes and words of the scored text; null when the score came from token ids alone
 *                       ({@code CausalLmScorer.scoreTokens}), as there is no text to measure
 */
public record ScoreResult(
        int nTokens, double nll, double ppl, int[] tokenIds, float[] tokenLogprobs, boolean truncated, TextStats text) {
    private static final double LN_2 = Math.log(2);

    /** NaN/Inf log-probs make the row an error, not a score (ppl alone may be NaN: no scored token). */
    public ScoreResult {
        if (!Double.isFinite(nll) || (nTokens > 0 && !Double.isFinite(ppl))) {
            throw new ArithmeticException(
                    "the score is not finite (nll " + nll + ", ppl " + ppl + " over " + nTokens
                            + " tokens): the model computed NaN/Inf log-probs for this text; check the model's weights and config");
        }
        if (tokenLogprobs != null) {
            for (int i = 0; i < tokenLogprobs.length; i++) {
                // NaN marks a token the windowed recipe leaves unscored; an infinity is never a log-prob
                if (Float.isInfinite(tokenLogprobs[i])) {
                    throw new ArithmeticException("token " + i + "'s log-prob is " + tokenLogprobs[i]
                            + ": the model computed NaN/Inf for this text; check the model's weights and config");
                }
            }
        }
    }

    /** A score of token ids, with no text to measure. */
    public ScoreResult(int nTokens, double nll, double ppl, int[] tokenIds, float[] tokenLogprobs, boolean truncated) {
        this(nTokens, nll, ppl, tokenIds, tokenLogprobs, truncated, null);
    }

    /** This score with the bytes and words of the text it scored. */
    public ScoreResult withText(String scoredText) {
        return new ScoreResult(nTokens, nll, ppl, tokenIds, tokenLogprobs, truncated, TextStats.of(scoredText));
    }

    /**
     * {@code nll / ln 2 / nBytes}: the document's bits per UTF-8 byte. Null when there is no text,
     * when the text has no bytes, or when the document was truncated: nll then covers only the
     * first part of the text while nBytes counts all of it, and the ratio would look better than
     * the model is. Corpus-level figures divide sums instead (see the README's scoring section).
     */
    public Double bitsPerByte() {
        if (text == null || text.nBytes() == 0 || truncated) return null;
        return nll / LN_2 / text.nBytes();
    }
}
