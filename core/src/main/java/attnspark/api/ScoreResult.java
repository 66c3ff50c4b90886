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
 */
public record ScoreResult(int nTokens, double nll, double ppl, int[] tokenIds, float[] tokenLogprobs,
                          boolean truncated) {
    /** NaN/Inf log-probs make the row an error, not a score (ppl alone may be NaN: no scored token). */
    public ScoreResult {
        if (!Double.isFinite(nll) || (nTokens > 0 && !Double.isFinite(ppl))) {
            throw new ArithmeticException("the score is not finite (nll " + nll + ", ppl " + ppl + " over " + nTokens
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
}
