package attnspark.models.llama;

import attnspark.api.ScoreResult;
import attnspark.api.ScoringMode;
import attnspark.api.TextScorer;
import attnspark.attention.AttentionKwargs;
import attnspark.batch.TokenBatch;
import attnspark.cache.PagedKvCache;
import attnspark.kernels.Linear;
import attnspark.kernels.LogSoftmax;
import attnspark.kernels.Parallel;
import attnspark.models.SequenceBatch;
import attnspark.models.TokenBudgetBatches;
import attnspark.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-document causal LM score: Σ -log p(token_i | tokens_<i) over every token after BOS.
 * Logits are formed a slice of rows at a time so (T, vocab) never has to fit at once.
 */
public final class CausalLmScorer implements TextScorer {
    // floats per logits slice (256 MiB): 520 rows at a 128,256-token vocabulary. Each slice's head
    // call reads the head's weights (1 GiB at Llama-3.2-1B's shapes) from memory once, its row
    // blocks passing over them range by range (VectorLinear); 128-row slices (64 MiB) read them 16
    // times over 2,048 tokens instead of 4
    private static final long LOGIT_BUDGET = 64L << 20;
    private static final int PAGE_SIZE = 32; // HF's continuous-batching default block size

    private final LlamaModel model;
    private final TextTokenizer tokenizer;
    private final int batchTokens;
    private final Map<String, Object> kwargs;
    private final Recipe recipe;
    private final WindowedScorer windowed; // hf-strided only
    private final LmEvalRollingWindows rolling; // lm-eval-rolling only

    /**
     * How documents become forwards: the {@link ScoringMode} with its window sizes and the
     * special tokens it conditions on. Build one with {@link #full}, {@link #hfStrided} or
     * {@link #lmEvalRolling}.
     *
     * @param bos    the config's {@code bos_token_id}, or -1: documents the tokenizer does not start with it
     *               (Qwen2, GPT-style tokenizers add no BOS) get it prepended in full and hf-strided mode, so
     *               the first real token is scored too, conditioned on BOS
     * @param prefix lm-eval-rolling's prefix token (HFLM's {@code prefix_token_id}: BOS, else EOS), or -1
     */
    public record Recipe(ScoringMode mode, int window, int stride, int bos, int prefix) {
        public static Recipe full(int bos) {
            return new Recipe(ScoringMode.FULL, 0, 0, bos, -1);
        }

        public static Recipe hfStrided(int window, int stride, int bos) {
            return new Recipe(ScoringMode.HF_STRIDED, window, stride, bos, -1);
        }

        public static Recipe lmEvalRolling(int window, int prefix) {
            return new Recipe(ScoringMode.LM_EVAL_ROLLING, window, 0, -1, prefix);
        }

        public Recipe {
            String misfit = mode.misfit(window, stride);
            if (misfit != null) throw new IllegalArgumentException(misfit);
        }
    }

    public CausalLmScorer(LlamaModel model, TextTokenizer tokenizer, int batchTokens, Map<String, Object> kwargs) {
        this(model, tokenizer, batchTokens, kwargs, Recipe.full(-1));
    }

    /**
     * With a windowed recipe the tokenizer must not truncate the documents it reads: windows
     * are what bound a forward.
     */
    public CausalLmScorer(
            LlamaModel model, TextTokenizer tokenizer, int batchTokens, Map<String, Object> kwargs, Recipe recipe) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.batchTokens = batchTokens;
        this.kwargs = kwargs;
        this.recipe = recipe;
        if (recipe.window() > model.maxPositions()) {
            throw new IllegalArgumentException(
                    "--window " + recipe.window() + " exceeds the model's " + model.maxPositions() + " positions");
        }
        if (recipe.mode() == ScoringMode.LM_EVAL_ROLLING && paged()) {
            throw new IllegalArgumentException(
                    "--mode lm-eval-rolling runs each window as a fresh forward, which a paged|* --attn"
                            + " (keys and values read from a KV cache) cannot; use --attn sdpa or eager");
        }
        WindowedScorer.StepLm lm = WindowedScorer.llama(model, kwargs);
        this.windowed = recipe.mode() == ScoringMode.HF_STRIDED
                ? new WindowedScorer(lm, recipe.window(), recipe.stride())
                : null;
        this.rolling = recipe.mode() == ScoringMode.LM_EVAL_ROLLING
                ? new LmEvalRollingWindows(lm, recipe.window(), recipe.prefix())
                : null;
    }

    public LlamaModel model() {
        return model;
    }

    @Override
    public List<ScoreResult> score(List<String> texts, boolean perToken) {
        TextTokenizer.Tokens[] tokens;
        if (rolling != null) {
            tokens = tokenizer.encodeWithoutSpecialTokens(
                    texts); // lm-eval's tok_encode: the prefix comes from the recipe
        } else {
            tokens = tokenizer.encode(texts);
            int bos = recipe.bos();
            if (bos >= 0) {
                for (int i = 0; i < tokens.length; i++) {
                    int[] ids = tokens[i].ids();
                    if (ids.length > 0 && ids[0] == bos) continue;
                    boolean cut = windowed == null && ids.length + 1 > tokenizer.maxLength(); // keep within max length
                    int keep = cut ? ids.length - 1 : ids.length;
                    int[] with = new int[keep + 1];
                    with[0] = bos;
                    System.arraycopy(ids, 0, with, 1, keep);
                    tokens[i] = new TextTokenizer.Tokens(with, tokens[i].truncated() || cut);
                }
            }
        }
        List<ScoreResult> out = scoreTokens(tokens, perToken);
        for (int i = 0; i < out.size(); i++) out.set(i, out.get(i).withText(texts.get(i)));
        return out;
    }

    /**
     * The packed entry: one result per sequence of {@code tokens}, in its order, ids taken as they
     * are (BOS already in place). For now it copies the sequences out and scores them as arrays.
     */
    public List<ScoreResult> scoreTokens(TokenBatch tokens, boolean perToken) {
        TextTokenizer.Tokens[] t = new TextTokenizer.Tokens[tokens.numSequences()];
        for (int s = 0; s < t.length; s++) t[s] = new TextTokenizer.Tokens(tokens.sequenceIds(s), tokens.truncated(s));
        return scoreTokens(t, perToken);
    }

    /**
     * One result per sequence. In lm-eval-rolling mode a sequence is the token list without
     * special tokens (the recipe puts the prefix token before it); otherwise its ids are taken as
     * they are, BOS already in place.
     */
    public List<ScoreResult> scoreTokens(TextTokenizer.Tokens[] tokens, boolean perToken) {
        ScoreResult[] out = new ScoreResult[tokens.length];
        List<Integer> whole = new ArrayList<>();
        for (int i = 0; i < tokens.length; i++) {
            if (rolling != null) {
                ScoreResult r = rolling.score(tokens[i].ids(), perToken);
                out[i] = tokens[i].truncated()
                        ? new ScoreResult(r.nTokens(), r.nll(), r.ppl(), r.tokenIds(), r.tokenLogprobs(), true)
                        : r;
            } else if (windowed != null && tokens[i].ids().length > windowed.window()) {
                out[i] = paged()
                        ? windowed.scoreKvReuse(
                                tokens[i].ids(),
                                perToken,
                                newCache(WindowedScorer.pagesNeeded(windowed.window(), PAGE_SIZE)),
                                0)
                        : windowed.scoreRecompute(tokens[i].ids(), perToken);
            } else {
                whole.add(i);
            }
        }
        int[] lengths = new int[whole.size()];
        for (int i = 0; i < lengths.length; i++) lengths[i] = tokens[whole.get(i)].ids().length;
        for (int[] planned : TokenBudgetBatches.plan(lengths, batchTokens)) {
            int[] idx = new int[planned.length];
            for (int j = 0; j < idx.length; j++) idx[j] = whole.get(planned[j]);
            int[][] ids = new int[idx.length][];
            for (int j = 0; j < idx.length; j++) ids[j] = tokens[idx[j]].ids();
            SequenceBatch batch = new SequenceBatch(ids);
            float[] hidden = paged() ? pagedPrefill(batch) : model.forward(batch, kwargs); // (T, D)
            float[] tokenLogprob = nextTokenLogProbs(batch, hidden); // at row t: log p(next token | ..t)
            for (int j = 0; j < idx.length; j++) {
                int n = batch.length(j) - 1;
                double nll = 0;
                float[] lp = new float[Math.max(0, n)];
                for (int i = 0; i < n; i++) {
                    lp[i] = tokenLogprob[batch.offsets[j] + i];
                    nll -= lp[i];
                }
                double ppl = n > 0 ? Math.exp(nll / n) : Double.NaN;
                out[idx[j]] = new ScoreResult(
                        Math.max(0, n),
                        nll,
                        ppl,
                        perToken ? ids[j].clone() : null,
                        perToken ? lp : null,
                        tokens[idx[j]].truncated());
            }
        }
        return new ArrayList<>(Arrays.asList(out));
    }

    private boolean paged() {
        return model.attnImplementation().startsWith("paged|");
    }

    private PagedKvCache newCache(int pages) {
        return new PagedKvCache(
                model.config.layers(), pages, PAGE_SIZE, model.config.kvHeads(), model.config.headDim());
    }

    /**
     * A {@code paged|*} backend reads keys and values from a {@link PagedKvCache}: each batch row
     * becomes a cache sequence, written and attended in one prefill step, then freed.
     */
    private float[] pagedPrefill(SequenceBatch batch) {
        int pages = 0;
        int[] seqIds = new int[batch.batch], lengths = new int[batch.batch];
        for (int b = 0; b < batch.batch; b++) {
            seqIds[b] = b;
            lengths[b] = batch.length(b);
            pages += PagedKvCache.pagesFor(lengths[b], PAGE_SIZE);
        }
        PagedKvCache cache = newCache(Math.max(1, pages));
        for (int b = 0; b < batch.batch; b++) cache.allocate(b, lengths[b]);
        Map<String, Object> kw = new HashMap<>();
        if (kwargs != null) kw.putAll(kwargs);
        kw.put(AttentionKwargs.CACHE, cache);
        kw.put(AttentionKwargs.SEQ_IDS, seqIds);
        kw.put(AttentionKwargs.QUERY_LENGTHS, lengths);
        return model.forward(batch, kw);
    }

    /**
     * Row t: log p(token t+1 | tokens ..t) of its sequence (the last row of a sequence is left 0).
     * The head runs on slices of at most {@code LOGIT_BUDGET / V} rows taken within one sequence
     * from its start, so the (rows, V) logits stay bounded and a row's gemm call (and so its bits)
     * depends only on its own sequence; the log-softmax of the slice's rows runs in parallel.
     */
    private float[] nextTokenLogProbs(SequenceBatch batch, float[] hidden) {
        int V = model.vocabSize(), D = model.hiddenSize();
        int sliceRows = (int) Math.max(1, LOGIT_BUDGET / V);
        // whole 8-row tiles of the linear's register tile: at a 128,256-token vocabulary a 64 MiB
        // budget gave 130 rows, whose last 2 went through the 1-row kernel in every slice (JFR: 1.6 %
        // of a 1B prefill's samples); the head alone ran 1.03-1.06x the GFLOP/s at 128 rows than 130
        if (sliceRows >= Linear.TILE_ROWS) sliceRows -= sliceRows % Linear.TILE_ROWS;
        float[] lp = new float[batch.totalTokens];
        for (int b = 0; b < batch.batch; b++) {
            int[] ids = batch.ids[b];
            int scored = batch.length(b) - 1, base = batch.offsets[b];
            for (int s0 = 0; s0 < scored; s0 += sliceRows) {
                int rows = Math.min(sliceRows, scored - s0), t0 = base + s0, first = s0;
                float[] logits = model.logits(Arrays.copyOfRange(hidden, t0 * D, (t0 + rows) * D), rows); // (rows, V)
                Parallel.forRange(rows, 8, (from, to) -> {
                    for (int r = from; r < to; r++) lp[t0 + r] = LogSoftmax.at(logits, r * V, V, ids[first + r + 1]);
                });
            }
        }
        return lp;
    }

    /** log_softmax(logits[off .. off+V))[target], the max subtracted first ({@link LogSoftmax}). */
    public static float logSoftmaxAt(float[] logits, int off, int V, int target) {
        return LogSoftmax.at(logits, off, V, target);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
