package attnspark.models.llama;

import attnspark.api.ScoreResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * lm-evaluation-harness's rolling log-likelihood ({@code HFLM.loglikelihood_rolling} in
 * {@code lm_eval/models/huggingface.py}), the recipe its perplexity tasks (wikitext, pile, ...)
 * report. The token list is the text's ids without special tokens; the prefix token (BOS, else
 * EOS: HFLM's {@code prefix_token_id}) stands before it so the first token has a condition. The
 * windows are {@code get_rolling_token_windows(token_list, prefix_token, max_seq_len=L,
 * context_len=1)} passed through {@code make_disjoint_window} ({@code lm_eval/utils.py}), and each
 * is one forward of {@code (context + continuation)[-(L+1):][:-1]} whose last
 * {@code len(continuation)} logits score the continuation ({@code _loglikelihood_tokens}).
 *
 * <p>So the first window feeds {@code [prefix] + tokens[0 : L-1]} and scores {@code tokens[0 : L]};
 * every later window predicts the next (up to) L tokens {@code tokens[end-k : end]} from an input of
 * the L tokens before {@code end}. The windows do not overlap in what they score: each token is
 * scored exactly once, but the first token of a full later window sees only one token of context
 * (lm-eval's {@code context_len=1}), unlike HF's strided recipe ({@link WindowedScorer}).
 * Positions restart at 0 in every window, as each is a separate HF forward.
 */
public final class LmEvalRollingWindows {
    /**
     * One forward: {@code input} at positions 0.., whose rows {@code input.length - predicted.length}
     * .. {@code input.length - 1} score {@code predicted} (row r scores the token after input[r]).
     *
     * @param firstPredicted index in the token list of {@code predicted[0]}
     */
    public record Window(int[] input, int[] predicted, int firstPredicted) {
        int firstScoredRow() {
            return input.length - predicted.length;
        }
    }

    private final WindowedScorer.StepLm lm;
    private final int maxSeqLen;
    private final int prefixToken;

    /**
     * @param lm          the model, see {@link WindowedScorer.StepLm}
     * @param maxSeqLen   L, lm-eval's {@code max_length}: tokens per forward, at most the model's positions
     * @param prefixToken the token before the first one: the model's BOS (lm-eval's {@code prefix_token_id})
     */
    public LmEvalRollingWindows(WindowedScorer.StepLm lm, int maxSeqLen, int prefixToken) {
        if (maxSeqLen < 1)
            throw new IllegalArgumentException("--window (lm-eval's max_length) must be >= 1, got " + maxSeqLen);
        if (prefixToken < 0) {
            throw new IllegalArgumentException(
                    "lm-eval-rolling conditions the first token on the model's BOS (or EOS),"
                            + " but config.json has neither bos_token_id nor eos_token_id; add one, or use --mode full / hf-strided");
        }
        this.lm = lm;
        this.maxSeqLen = maxSeqLen;
        this.prefixToken = prefixToken;
    }

    public int maxSeqLen() {
        return maxSeqLen;
    }

    /** The windows of {@code tokens} (none for an empty list). */
    public static List<Window> windows(int[] tokens, int prefixToken, int maxSeqLen) {
        List<Window> out = new ArrayList<>();
        int n = tokens.length;
        if (n == 0) return out;
        int predLen = maxSeqLen; // max_seq_len - context_len + 1 with context_len = 1
        // first window: context [prefix] + tokens[:first-1], continuation tokens[:first]; made
        // disjoint, the context keeps len(a) - (len(b) - 1) = 1 token: the prefix
        int first = Math.min(maxSeqLen, n);
        out.add(forward(new int[] {prefixToken}, Arrays.copyOfRange(tokens, 0, first), 0, maxSeqLen));
        int predicted = first;
        while (predicted < n) {
            int windowPredLen = Math.min(n - predicted, predLen);
            int end = predicted + windowPredLen;
            // context a = tokens[end - L - 1 : end - 1] (end >= L + 1 here: the first window predicted L),
            // continuation b = tokens[end - k : end]; disjoint: a[: len(a) - (k - 1)] = tokens[end - L - 1 : end - k]
            int[] context = Arrays.copyOfRange(tokens, end - maxSeqLen - 1, end - windowPredLen);
            out.add(forward(
                    context, Arrays.copyOfRange(tokens, end - windowPredLen, end), end - windowPredLen, maxSeqLen));
            predicted += windowPredLen;
        }
        return out;
    }

    /** {@code _loglikelihood_tokens}: the model reads {@code (context + continuation)[-(L+1):][:-1]}. */
    private static Window forward(int[] context, int[] continuation, int firstPredicted, int maxSeqLen) {
        int[] whole = new int[context.length + continuation.length];
        System.arraycopy(context, 0, whole, 0, context.length);
        System.arraycopy(continuation, 0, whole, context.length, continuation.length);
        int from = Math.max(0, whole.length - (maxSeqLen + 1));
        return new Window(Arrays.copyOfRange(whole, from, whole.length - 1), continuation, firstPredicted);
    }

    /**
     * Scores every token of {@code tokens} once. Per-token output: ids are {@code [prefix] + tokens},
     * log-probs one per token. An empty list scores nothing (nll 0, ppl NaN).
     */
    public ScoreResult score(int[] tokens, boolean perToken) {
        float[] lp = new float[tokens.length];
        double nll = 0;
        for (Window w : windows(tokens, prefixToken, maxSeqLen)) {
            int len = w.input().length, row0 = w.firstScoredRow();
            int[] positions = new int[len];
            int[] targets = new int[len];
            for (int r = 0; r < len; r++) {
                positions[r] = r;
                targets[r] = r >= row0 ? w.predicted()[r - row0] : -1;
            }
            float[] out = lm.logProbsOfNext(w.input(), positions, targets, Map.of());
            for (int j = 0; j < w.predicted().length; j++) {
                float x = out[row0 + j];
                if (!Float.isFinite(x)) {
                    throw new ArithmeticException("token " + (w.firstPredicted() + j) + "'s log-prob is " + x
                            + ": the model computed NaN/Inf for this text; check the model's weights and config");
                }
                lp[w.firstPredicted() + j] = x;
                nll -= x;
            }
        }
        int n = tokens.length;
        int[] ids = null;
        if (perToken) {
            ids = new int[n + 1];
            ids[0] = prefixToken;
            System.arraycopy(tokens, 0, ids, 1, n);
        }
        return new ScoreResult(n, nll, n > 0 ? Math.exp(nll / n) : Double.NaN, ids, perToken ? lp : null, false);
    }
}
