package attnspark.models.llama;

import attnspark.api.ScoreResult;
import attnspark.attention.AttentionKwargs;
import attnspark.cache.PagedKvCache;
import attnspark.models.SequenceBatch;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Causal-LM scoring of documents longer than the context, with HF's strided sliding-window
 * perplexity recipe ("Perplexity of fixed-length models"): windows of {@code W} tokens
 * ({@code [begin, min(begin + W, n))}, {@code begin = 0, S, 2S, ...}, stopping at the window that
 * reaches the end) each score only the tokens not scored by an earlier window, conditioned on
 * the window's earlier tokens. So the first window scores tokens {@code 1 .. W-1}, and every
 * later one the {@code S} (or fewer, at the end) tokens after the previous window's end, each
 * with {@code W - S} to {@code W - 1} tokens of context.
 *
 * <p>Two versions:
 * <ul>
 *   <li>{@link #scoreRecompute}: exactly the recipe: one fresh forward per window (positions
 *       restart at 0 per window), {@code ~n·W/S} tokens of compute.</li>
 *   <li>{@link #scoreKvReuse}: one forward per token over a {@link PagedKvCache}: the query of
 *       position {@code p}, whose logits score token {@code p+1}, attends to the cached keys of
 *       {@code [begin_k, p]} where window {@code k} is the one that scores {@code p+1} in the
 *       recipe. The top-level query context is therefore the recipe's, but the cached K/V of
 *       the context tokens were computed when those tokens were new (with their own, earlier
 *       window), not recomputed under window {@code k}. It equals {@link #scoreRecompute} (up to
 *       float rounding) for a one-layer model, for {@code W >= n}, and for {@code S >= W - 1}
 *       (windows then share at most the one token they need); otherwise, for deeper models, it is
 *       a different approximation (Transformer-XL style segment reuse; lower layers look further
 *       back), at {@code ~n} tokens of compute. Pages wholly before the window are given back as
 *       it slides, so one sequence needs at most {@link #pagesNeeded(int, int)} pages.</li>
 * </ul>
 * Tokens HF's recipe never scores are reported as NaN in the per-token output and left out of
 * {@code nTokens}: this happens only when {@code S == W} (each window's first token has no
 * context in its window). With {@code S < W} every token after the first is scored. The NLL is
 * the exact sum over scored tokens (the HF snippet's {@code num_valid_tokens - 1} weighting is an
 * approximation and is not copied).
 */
public final class WindowedScorer {
    /**
     * What the scorer needs from a causal LM: one forward over {@code tokens} (one sequence) at
     * the given {@code positions}, returning {@code out[i] = log p(targets[i] | context of token i)}
     * (log-softmax of the logits of row {@code i}); where {@code targets[i] < 0} the value is
     * ignored (may be anything; NaN is fine). {@code attnKwargs} must reach every attention call
     * unchanged: for the recompute version it is empty and positions are {@code 0..n-1}; for the
     * KV-reuse version it carries {@code cache} ({@link PagedKvCache}), {@code seq_ids} (int[1]) and
     * {@code kv_start} (int[1]) for the {@code paged|*} attention functions, and positions are
     * absolute ({@code cache length + i}).
     */
    @FunctionalInterface
    public interface StepLm {
        float[] logProbsOfNext(int[] tokens, int[] positions, int[] targets, Map<String, Object> attnKwargs);
    }

    private final StepLm lm;
    private final int window;
    private final int stride;

    /**
     * @param lm     the model, see {@link StepLm}
     * @param window W, tokens per window (the model's context), &gt;= 2
     * @param stride S, 1 &lt;= S &lt;= W; HF uses e.g. W = 1024, S = 512
     */
    public WindowedScorer(StepLm lm, int window, int stride) {
        if (window < 2) throw new IllegalArgumentException("window must be >= 2 tokens, got " + window);
        if (stride < 1 || stride > window) {
            throw new IllegalArgumentException("stride must be in 1.." + window + " (the window), got " + stride
                    + "; a stride larger than the window would skip tokens");
        }
        this.lm = lm;
        this.window = window;
        this.stride = stride;
    }

    public int window() {
        return window;
    }

    public int stride() {
        return stride;
    }

    /** Pages one sequence holds at most in {@link #scoreKvReuse} with block size {@code bs}. */
    public static int pagesNeeded(int window, int blockSize) {
        return PagedKvCache.pagesFor(window + blockSize - 1, blockSize) + 1;
    }

    /** HF's recipe, one fresh forward per window. */
    public ScoreResult scoreRecompute(int[] ids, boolean perToken) {
        int n = ids.length;
        float[] lp = new float[Math.max(0, n - 1)];
        Arrays.fill(lp, Float.NaN);
        int prevEnd = 0;
        for (int begin = 0; begin < n; begin += stride) {
            int end = Math.min(begin + window, n);
            int first = Math.max(prevEnd, begin + 1); // first token this window scores
            if (first < end) {
                int len = end - begin;
                int[] toks = Arrays.copyOfRange(ids, begin, end);
                int[] pos = new int[len];
                int[] targets = new int[len];
                for (int j = 0; j < len; j++) {
                    pos[j] = j;
                    int t = begin + j + 1;
                    targets[j] = t < end && t >= first ? ids[t] : -1;
                }
                float[] out = lm.logProbsOfNext(toks, pos, targets, Map.of());
                for (int t = first; t < end; t++) lp[t - 1] = scored(out[t - 1 - begin], t);
            }
            prevEnd = end;
            if (end == n) break;
        }
        return result(ids, lp, perToken);
    }

    /**
     * The KV-reuse version over {@code cache} (sequence {@code seqId}, which must be unused; it is
     * freed on return). The model's attention must be a {@code paged|*} implementation.
     */
    public ScoreResult scoreKvReuse(int[] ids, boolean perToken, PagedKvCache cache, int seqId) {
        if (cache.contains(seqId)) throw new IllegalArgumentException("sequence " + seqId + " is already in the cache");
        int n = ids.length;
        float[] lp = new float[Math.max(0, n - 1)];
        Arrays.fill(lp, Float.NaN);
        try {
            cache.allocate(seqId, 0); // registers the sequence
            int prevEnd = 0;
            int done = 0; // positions already run through the model
            for (int begin = 0; begin < n; begin += stride) {
                int end = Math.min(begin + window, n);
                int first = Math.max(prevEnd, begin + 1);
                // queries at positions first-1 .. end-2 score tokens first .. end-1. With S == W the
                // next window starts at end, so position end-1 (context only) is run here, inside
                // its own window: cache index and absolute position must stay equal.
                int from = done, to = stride == window && end < n ? end : end - 1;
                if (to > from) {
                    cache.releaseBefore(seqId, begin);
                    int len = to - from;
                    int[] toks = Arrays.copyOfRange(ids, from, to);
                    int[] pos = new int[len];
                    int[] targets = new int[len];
                    for (int j = 0; j < len; j++) {
                        pos[j] = from + j;
                        int t = from + j + 1;
                        targets[j] = t >= first && t < end ? ids[t] : -1;
                    }
                    Map<String, Object> kw = new HashMap<>();
                    kw.put(AttentionKwargs.CACHE, cache);
                    kw.put(AttentionKwargs.SEQ_IDS, new int[] {seqId});
                    kw.put(AttentionKwargs.KV_START, new int[] {begin});
                    float[] out = lm.logProbsOfNext(toks, pos, targets, kw);
                    for (int t = first; t < end; t++) lp[t - 1] = scored(out[t - 1 - from], t);
                    done = to;
                }
                prevEnd = end;
                if (end == n) break;
            }
        } finally {
            cache.free(seqId);
        }
        return result(ids, lp, perToken);
    }

    /** NaN in {@code lp} means "not scored", so a NaN the model computes must fail here instead of vanishing. */
    private static float scored(float logProb, int token) {
        if (!Float.isFinite(logProb)) {
            throw new ArithmeticException("token " + token + "'s log-prob is " + logProb
                    + ": the model computed NaN/Inf for this text; check the model's weights and config");
        }
        return logProb;
    }

    private static ScoreResult result(int[] ids, float[] lp, boolean perToken) {
        int scored = 0;
        double nll = 0;
        for (float x : lp) {
            if (!Float.isNaN(x)) {
                scored++;
                nll -= x;
            }
        }
        double ppl = scored > 0 ? Math.exp(nll / scored) : Double.NaN;
        return new ScoreResult(scored, nll, ppl, perToken ? ids.clone() : null, perToken ? lp : null, false);
    }

    /**
     * A {@link StepLm} over {@link LlamaModel}: one unbatched forward
     * starting at {@code positions[0]} (RoPE angles of the absolute positions), logits of the rows
     * that have a target. Positions must be consecutive, as both scoring versions give them.
     */
    public static StepLm llama(LlamaModel model, Map<String, Object> kwargs) {
        return (tokens, positions, targets, attnKwargs) -> {
            for (int i = 1; i < positions.length; i++) {
                if (positions[i] != positions[0] + i) {
                    throw new IllegalArgumentException(
                            "positions must be consecutive, got " + Arrays.toString(positions));
                }
            }
            Map<String, Object> kw = new HashMap<>();
            if (kwargs != null) kw.putAll(kwargs);
            kw.putAll(attnKwargs);
            SequenceBatch batch =
                    new SequenceBatch(new int[][] {tokens}, new int[] {positions.length == 0 ? 0 : positions[0]});
            float[] hidden = model.forward(batch, kw); // (n, D)
            int D = model.hiddenSize(), V = model.vocabSize();
            float[] out = new float[tokens.length];
            Arrays.fill(out, Float.NaN);
            int[] rows = IntStream.range(0, tokens.length)
                    .filter(i -> targets[i] >= 0)
                    .toArray();
            int slice = Math.max(1, (16 << 20) / V); // bound (rows, V) logits
            for (int r0 = 0; r0 < rows.length; r0 += slice) {
                int m = Math.min(slice, rows.length - r0);
                float[] h = new float[m * D];
                for (int r = 0; r < m; r++) System.arraycopy(hidden, rows[r0 + r] * D, h, r * D, D);
                float[] logits = model.logits(h, m); // (m, V)
                for (int r = 0; r < m; r++)
                    out[rows[r0 + r]] = CausalLmScorer.logSoftmaxAt(logits, r * V, V, targets[rows[r0 + r]]);
            }
            return out;
        };
    }
}
