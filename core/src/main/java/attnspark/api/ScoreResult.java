package attnspark.api;

/**
 * One document's causal-LM score. Every token after BOS is scored, conditioned on all before it.
 *
 * @param nTokens        scored tokens (= tokenIds.length - 1)
 * @param nll            sum over scored tokens of -log p(token | prefix), natural log
 * @param ppl            exp(nll / nTokens); NaN when nTokens == 0
 * @param tokenIds       every id including BOS; null unless per-token output was asked for
 * @param tokenLogprobs  log p of each scored token (length nTokens); null unless asked for
 * @param truncated      true when the document was cut to the maximum length
 */
public record ScoreResult(int nTokens, double nll, double ppl, int[] tokenIds, float[] tokenLogprobs,
                          boolean truncated) {
}
