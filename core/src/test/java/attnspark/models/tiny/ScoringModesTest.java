package attnspark.models.tiny;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.api.ModelOptions;
import attnspark.api.ScoreResult;
import attnspark.api.ScoringMode;
import attnspark.api.TextScorer;
import attnspark.checkpoint.SafeTensorsCheckpoint;
import attnspark.load.Models;
import attnspark.models.llama.LmEvalRollingWindows;
import attnspark.models.llama.WindowedScorer;
import attnspark.testutil.Shared;
import attnspark.tokenizer.TextTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The three scoring modes on stories260K against plain re-implementations of each recipe written
 * in this test straight from their sources, run on {@link NaiveLlama} (float64, no attnspark model
 * code): HF's perplexity guide loop ("Perplexity of fixed-length models"), lm-evaluation-harness
 * {@code get_rolling_token_windows} + {@code make_disjoint_window} + {@code _loglikelihood_tokens}
 * ({@code lm_eval/utils.py}, {@code lm_eval/models/huggingface.py}), and one forward for full mode.
 * Only the token ids come from attnspark's tokenizer; every forward and window of the reference is
 * the test's own.
 */
class ScoringModesTest {
    /** Mean |attnspark - float64 reference| per scored token, and the same per token for nll / n. */
    private static final double TOL = 1e-4;

    private static final String TEXT = "Tom and Sue went to the park. They saw a big tree and a little bird.";

    static Path dir;
    static Map<String, Object> config;
    static Map<String, double[]> weights;
    static NaiveLlama ref;
    static int bos;
    static int[] textIds; // TEXT without special tokens (lm-eval's token list)

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void load() throws Exception {
        dir = Shared.stories260k();
        config = new ObjectMapper().readValue(dir.resolve("config.json").toFile(), Map.class);
        weights = new HashMap<>();
        try (SafeTensorsCheckpoint ck = SafeTensorsCheckpoint.open(dir)) {
            for (String name : ck.names()) {
                float[] f = ck.tensor(name).data;
                double[] d = new double[f.length];
                for (int i = 0; i < f.length; i++) d[i] = f[i];
                weights.put(name, d);
            }
        }
        ref = new NaiveLlama(config, weights);
        bos = ((Number) config.get("bos_token_id")).intValue();
        try (TextTokenizer tok = new TextTokenizer(dir.resolve("tokenizer.json"), 1 << 20)) {
            textIds = tok.encodeWithoutSpecialTokens(List.of(TEXT))[0].ids();
            assertArrayEquals(
                    concat(new int[] {bos}, textIds),
                    tok.encode(TEXT).ids(),
                    "stories260K's tokenizer adds exactly BOS: full mode and lm-eval then see the same tokens");
        }
        assertTrue(textIds.length >= 16, "the windows below need a text of some length, got " + textIds.length);
    }

    // ---- the float64 model: log p(target_r | input[0..r]) for each row, positions 0.. (one HF forward)

    private static double[] logProbs(int[] input, int[] targets) {
        return logProbs(ref, input, targets);
    }

    private static double[] logProbs(NaiveLlama model, int[] input, int[] targets) {
        double[][] logits = model.logits(model.hidden(input));
        double[] out = new double[input.length];
        for (int r = 0; r < input.length; r++) {
            if (targets[r] < 0) continue;
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (double x : logits[r]) max = Math.max(max, x);
            for (double x : logits[r]) sum += Math.exp(x - max);
            out[r] = logits[r][targets[r]] - max - Math.log(sum);
        }
        return out;
    }

    // ---- lm-evaluation-harness, transcribed from the Python

    /** Python's {@code seq[start:stop]} (negative indices count from the end, then clamp). */
    private static int[] pySlice(int[] seq, int start, int stop) {
        int n = seq.length;
        start = start < 0 ? Math.max(0, n + start) : Math.min(start, n);
        stop = stop < 0 ? Math.max(0, n + stop) : Math.min(stop, n);
        return stop > start ? Arrays.copyOfRange(seq, start, stop) : new int[0];
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** {@code get_rolling_token_windows(token_list, prefix_token, max_seq_len, context_len)}: (input, pred) pairs. */
    private static List<int[][]> getRollingTokenWindows(
            int[] tokenList, int prefixToken, int maxSeqLen, int contextLen) {
        List<int[][]> out = new ArrayList<>();
        assertTrue(1 <= contextLen && contextLen <= maxSeqLen);
        if (tokenList.length == 0) return out;
        int predLen = maxSeqLen - contextLen + 1; // +1 offset, going from input->preds
        int predicted = 0;
        int firstSeqLen = Math.min(maxSeqLen, tokenList.length);
        out.add(new int[][] {
            concat(new int[] {prefixToken}, pySlice(tokenList, 0, firstSeqLen - 1)), pySlice(tokenList, 0, firstSeqLen)
        });
        predicted += firstSeqLen;
        while (predicted < tokenList.length) {
            int windowPredLen = Math.min(tokenList.length - predicted, predLen);
            int windowEnd = predicted + windowPredLen;
            out.add(new int[][] {
                pySlice(tokenList, windowEnd - maxSeqLen - 1, windowEnd - 1),
                pySlice(tokenList, windowEnd - windowPredLen, windowEnd)
            });
            predicted += windowPredLen;
        }
        return out;
    }

    /** {@code make_disjoint_window(pair)}: {@code a[: len(a) - (len(b) - 1)], b}. */
    private static int[][] makeDisjointWindow(int[][] pair) {
        int[] a = pair[0], b = pair[1];
        return new int[][] {pySlice(a, 0, a.length - (b.length - 1)), b};
    }

    /**
     * {@code loglikelihood_rolling} then {@code _loglikelihood_tokens}: per window,
     * {@code inp = (context_enc + continuation_enc)[-(max_length + 1):][:-1]}, and the last
     * {@code len(continuation_enc)} rows of the log-softmax score the continuation.
     */
    private static double[] lmEvalRolling(int[] tokenList, int maxLength) {
        double[] lp = new double[tokenList.length];
        int at = 0;
        for (int[][] w : getRollingTokenWindows(tokenList, bos, maxLength, 1)) {
            int[][] d = makeDisjointWindow(w);
            int[] whole = concat(d[0], d[1]);
            int[] trimmed = pySlice(whole, -(maxLength + 1), whole.length);
            int[] inp = pySlice(trimmed, 0, -1);
            int contLen = d[1].length;
            int[] targets = new int[inp.length];
            Arrays.fill(targets, -1);
            for (int r = inp.length - contLen; r < inp.length; r++) targets[r] = trimmed[r + 1];
            double[] rows = logProbs(inp, targets);
            for (int j = 0; j < contLen; j++) {
                assertEquals(d[1][j], targets[inp.length - contLen + j]);
                lp[at++] = rows[inp.length - contLen + j];
            }
        }
        assertEquals(tokenList.length, at, "every token scored once");
        return lp;
    }

    // ---- HF perplexity guide, transcribed

    /**
     * <pre>
     * for begin_loc in range(0, seq_len, stride):
     *     end_loc = min(begin_loc + max_length, seq_len); trg_len = end_loc - prev_end_loc
     *     input_ids = ids[begin_loc:end_loc]; target_ids[:-trg_len] = -100   (labels shift by one inside the model)
     *     prev_end_loc = end_loc; if end_loc == seq_len: break
     * </pre>
     * Result index t-1 is token t's log-prob; NaN where no window scores it.
     */
    private static double[] hfStrided(int[] ids, int maxLength, int stride) {
        double[] lp = new double[Math.max(0, ids.length - 1)];
        Arrays.fill(lp, Double.NaN);
        int seqLen = ids.length, prevEndLoc = 0;
        for (int beginLoc = 0; beginLoc < seqLen; beginLoc += stride) {
            int endLoc = Math.min(beginLoc + maxLength, seqLen);
            int trgLen = endLoc - prevEndLoc;
            int[] input = pySlice(ids, beginLoc, endLoc);
            int[] targets = new int[input.length];
            Arrays.fill(targets, -1);
            // labels[i] = input[i] where not -100; the shifted loss scores row i-1 against labels[i], i >= 1
            for (int i = Math.max(1, input.length - trgLen); i < input.length; i++) targets[i - 1] = input[i];
            double[] rows = logProbs(input, targets);
            for (int i = Math.max(1, input.length - trgLen); i < input.length; i++) lp[beginLoc + i - 1] = rows[i - 1];
            prevEndLoc = endLoc;
            if (endLoc == seqLen) break;
        }
        return lp;
    }

    // ---- attnspark through its public API

    private static ScoreResult score(ScoringMode mode, int window, int stride, String text) {
        ModelOptions o = ModelOptions.defaults().withModelDir(dir.toString()).withScoring(mode, window, stride);
        try (TextScorer s = Models.loadScorer(o)) {
            return s.score(List.of(text), true).get(0);
        }
    }

    private static void assertMatches(String what, double[] want, ScoreResult got) {
        float[] lp = got.tokenLogprobs();
        assertEquals(want.length, lp.length, what + ": per-token length");
        int scored = 0;
        double diff = 0, nll = 0;
        for (int i = 0; i < want.length; i++) {
            if (Double.isNaN(want[i])) {
                assertTrue(Float.isNaN(lp[i]), what + ": token " + (i + 1) + " is not scored by the recipe");
                continue;
            }
            scored++;
            diff += Math.abs(want[i] - lp[i]);
            nll -= want[i];
        }
        assertEquals(scored, got.nTokens(), what + ": scored tokens");
        if (scored > 0) assertTrue(diff / scored < TOL, what + ": mean |diff| per token " + diff / scored);
        assertEquals(nll, got.nll(), TOL * Math.max(1, scored), what + ": nll");
    }

    @Test
    void referenceWindowsReproduceLmEvalsOwnGold() {
        // lm-evaluation-harness tests/test_utils.py test_get_rolling_token_windows_v1 (x = range(34),
        // prefix -100, max_seq_len 10, context_len 1), the published expected windows
        int[] x = new int[34];
        for (int i = 0; i < x.length; i++) x[i] = i;
        int[][][] gold = {
            {{-100, 0, 1, 2, 3, 4, 5, 6, 7, 8}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
            {{9, 10, 11, 12, 13, 14, 15, 16, 17, 18}, {10, 11, 12, 13, 14, 15, 16, 17, 18, 19}},
            {{19, 20, 21, 22, 23, 24, 25, 26, 27, 28}, {20, 21, 22, 23, 24, 25, 26, 27, 28, 29}},
            {{23, 24, 25, 26, 27, 28, 29, 30, 31, 32}, {30, 31, 32, 33}},
        };
        List<int[][]> mine = getRollingTokenWindows(x, -100, 10, 1);
        assertEquals(gold.length, mine.size());
        for (int i = 0; i < gold.length; i++) {
            assertArrayEquals(gold[i][0], mine.get(i)[0], "window " + i + " input");
            assertArrayEquals(gold[i][1], mine.get(i)[1], "window " + i + " predictions");
        }
        // attnspark's windows are the model inputs after make_disjoint_window and the [-(L+1):][:-1] cut:
        // here the same inputs as gold (each already has L tokens), scoring the same tokens
        List<LmEvalRollingWindows.Window> prod = LmEvalRollingWindows.windows(x, 7, 10); // prefix 7: ids are >= 0
        assertEquals(gold.length, prod.size());
        for (int i = 0; i < gold.length; i++) {
            int[] wantInput = gold[i][0].clone();
            if (i == 0) wantInput[0] = 7;
            assertArrayEquals(wantInput, prod.get(i).input(), "attnspark window " + i + " input");
            assertArrayEquals(gold[i][1], prod.get(i).predicted(), "attnspark window " + i + " predictions");
        }
    }

    /**
     * The README's worked example ("Scoring", ids {@code [BOS] t1 .. t7}, here 100 and 1..7), as
     * the forwards each recipe really runs: a recording model notes each forward's tokens and which
     * rows score which token; every line below is the README's, written out by hand.
     */
    @Test
    void readmeWorkedExample() {
        List<String> calls = new ArrayList<>();
        WindowedScorer.StepLm recorder = (tokens, positions, targets, kw) -> {
            StringBuilder sb = new StringBuilder(Arrays.toString(tokens)).append(" scores");
            for (int r = 0; r < tokens.length; r++)
                if (targets[r] >= 0) sb.append(' ').append(targets[r]);
            calls.add(sb.toString());
            float[] out = new float[tokens.length];
            Arrays.fill(out, -1f);
            return out;
        };
        int[] ids = {100, 1, 2, 3, 4, 5, 6, 7};
        ScoreResult strided = new WindowedScorer(recorder, 3, 2).scoreRecompute(ids, false);
        assertEquals(
                List.of("[100, 1, 2] scores 1 2", "[2, 3, 4] scores 3 4", "[4, 5, 6] scores 5 6", "[6, 7] scores 7"),
                calls);
        assertEquals(7, strided.nTokens());
        calls.clear();
        ScoreResult rolling = new LmEvalRollingWindows(recorder, 3, 100).score(Arrays.copyOfRange(ids, 1, 8), false);
        assertEquals(List.of("[100, 1, 2] scores 1 2 3", "[3, 4, 5] scores 4 5 6", "[4, 5, 6] scores 7"), calls);
        assertEquals(7, rolling.nTokens());
    }

    @Test
    void lmEvalRollingMatchesTheHarnessRecipe() {
        int n = textIds.length;
        for (int L : new int[] {n + 3, n, n - 1, 7, 5}) { // shorter than L, exactly L, L+1, several windows
            ScoreResult got = score(ScoringMode.LM_EVAL_ROLLING, L, 0, TEXT);
            assertArrayEquals(concat(new int[] {bos}, textIds), got.tokenIds(), "L=" + L + ": prefix + token list");
            assertEquals(n, got.nTokens(), "L=" + L + ": every token of the list is scored");
            assertMatches("lm-eval-rolling L=" + L, lmEvalRolling(textIds, L), got);
        }
        ScoreResult empty = score(ScoringMode.LM_EVAL_ROLLING, 8, 0, "");
        assertEquals(0, empty.nTokens());
        assertEquals(0.0, empty.nll());
        assertTrue(Double.isNaN(empty.ppl()));
    }

    @Test
    void hfStridedMatchesThePerplexityGuideLoop() {
        int[] ids = concat(new int[] {bos}, textIds);
        int m = ids.length;
        int[][] windows = {{m + 3, 2}, {m, 4}, {m - 1, 3}, {8, 3}, {6, 6}, {5, 1}}; // W, S
        for (int[] ws : windows) {
            ScoreResult got = score(ScoringMode.HF_STRIDED, ws[0], ws[1], TEXT);
            assertArrayEquals(ids, got.tokenIds());
            assertMatches("hf-strided W=" + ws[0] + " S=" + ws[1], hfStrided(ids, ws[0], ws[1]), got);
        }
        assertEquals(0, score(ScoringMode.HF_STRIDED, 8, 4, "").nTokens(), "empty text: BOS only, nothing to score");
    }

    @Test
    void fullModeMatchesOneForward() {
        int[] ids = concat(new int[] {bos}, textIds);
        int[] targets = new int[ids.length];
        Arrays.fill(targets, -1);
        for (int i = 0; i + 1 < ids.length; i++) targets[i] = ids[i + 1];
        double[] rows = logProbs(ids, targets);
        assertMatches("full", Arrays.copyOf(rows, ids.length - 1), score(ScoringMode.FULL, 0, 0, TEXT));
    }

    /**
     * With L >= the token count lm-eval runs one window, input {@code [BOS] + tokens[:-1]}: the
     * same tokens at the same positions as full mode's {@code [BOS] + tokens} less the last one,
     * which no scored row sees (causal). With a tokenizer that adds BOS, as stories260K's does,
     * the two then score the same tokens with the same conditioning, the first on BOS alone.
     * They differ only where the first token's condition differs: a tokenizer adding no BOS and a
     * config without bos_token_id leave full mode's first token unscored, while lm-eval still
     * conditions it on its prefix (EOS then).
     */
    @Test
    void lmEvalRollingWithOneWindowIsFullMode() {
        ScoreResult full = score(ScoringMode.FULL, 0, 0, TEXT);
        ScoreResult rolling = score(ScoringMode.LM_EVAL_ROLLING, textIds.length + 10, 0, TEXT);
        assertEquals(full.nTokens(), rolling.nTokens());
        assertArrayEquals(full.tokenIds(), rolling.tokenIds());
        for (int i = 0; i < full.nTokens(); i++) {
            assertEquals(full.tokenLogprobs()[i], rolling.tokenLogprobs()[i], 1e-5, "token " + (i + 1));
        }
        assertEquals(full.nll(), rolling.nll(), 1e-5 * full.nTokens());
        assertEquals(full.text(), rolling.text());
    }

    /**
     * {@code --attention-chunk N} on a model cut to 40 positions: a 3x longer document is scored
     * whole. Each token attends only within its N-token chunk (HF's chunked mask, chunks counted
     * from position 0), so in exact arithmetic the document's per-token log-probs are those of
     * each chunk scored on its own as a sequence at positions 0.. (RoPE: q·k depends on q - kv
     * only), where the chunk's last row also scores the next chunk's first token (that row still
     * sees only its own chunk). The token at a chunk start is thus conditioned on the previous
     * chunk, every other token on the earlier tokens of its own chunk.
     */
    @Test
    void attentionChunkScoresLongDocumentsWhole(@TempDir Path tmp) throws Exception {
        int maxPositions = 40, N = 16;
        Path small = Files.createDirectory(tmp.resolve("stories260k-40"));
        for (String f : List.of("model.safetensors", "tokenizer.json")) {
            Files.createSymbolicLink(small.resolve(f), dir.resolve(f).toAbsolutePath());
        }
        Map<String, Object> cut = new HashMap<>(config);
        cut.put("max_position_embeddings", maxPositions);
        new ObjectMapper().writeValue(small.resolve("config.json").toFile(), cut);
        String text = TEXT + " " + TEXT + " " + TEXT;
        int[] ids = concat(new int[] {bos}, concat(concat(textIds, textIds), textIds));
        ModelOptions o = ModelOptions.defaults().withModelDir(small.toString());

        ScoreResult got;
        try (TextScorer s = Models.loadScorer(o.withAttentionChunk(N))) {
            got = s.score(List.of(text), true).get(0);
        }
        int[] gotIds = got.tokenIds();
        assertTrue(gotIds.length > 2 * maxPositions, "the document is longer than the model: " + gotIds.length);
        assertFalse(got.truncated());
        assertEquals(gotIds.length - 1, got.nTokens(), "every token after BOS is scored");
        assertNotNull(got.bitsPerByte(), "whole documents have bits per byte");

        // reference: chunk by chunk, each its own float64 forward at positions 0..
        double[] perChunk = new double[gotIds.length - 1];
        for (int c0 = 0; c0 < gotIds.length; c0 += N) {
            int[] chunk = pySlice(gotIds, c0, c0 + N);
            int[] targets = new int[chunk.length];
            for (int r = 0; r < chunk.length; r++) targets[r] = c0 + r + 1 < gotIds.length ? gotIds[c0 + r + 1] : -1;
            double[] rows = logProbs(chunk, targets);
            for (int r = 0; r < chunk.length && c0 + r + 1 < gotIds.length; r++) perChunk[c0 + r] = rows[r];
        }
        assertMatches("attention-chunk " + N, perChunk, got);

        // and what HF's chunked mask computes over the whole document at absolute positions: the same
        // numbers in float64 (only the RoPE angles' rounding differs), which is why chunking is allowed past max
        // positions
        Map<String, Object> chunked = new HashMap<>(config);
        chunked.put("attention_chunk_size", N);
        int[] targets = new int[gotIds.length];
        Arrays.fill(targets, -1);
        for (int i = 0; i + 1 < gotIds.length; i++) targets[i] = gotIds[i + 1];
        double[] whole = logProbs(new NaiveLlama(chunked, weights), gotIds, targets);
        for (int i = 0; i < perChunk.length; i++) assertEquals(perChunk[i], whole[i], 1e-9, "token " + (i + 1));

        // without a chunk the same document is truncated at the model's positions, as before
        try (TextScorer s = Models.loadScorer(o)) {
            ScoreResult full = s.score(List.of(text), false).get(0);
            assertTrue(full.truncated());
            assertEquals(maxPositions - 1, full.nTokens());
            assertNull(full.bitsPerByte());
        }
        // what cannot be scored whole is refused, naming the modes that can
        String tooBig = assertThrows(IllegalArgumentException.class, () -> Models.loadScorer(o.withAttentionChunk(48)))
                .getMessage();
        assertTrue(
                tooBig.contains("--attention-chunk 48 exceeds the model's 40 positions")
                        && tooBig.contains("--mode hf-strided")
                        && tooBig.contains("--mode lm-eval-rolling"),
                tooBig);
        String paged = assertThrows(
                        IllegalArgumentException.class,
                        () -> Models.loadScorer(o.withAttentionChunk(N).withAttn("paged|sdpa")))
                .getMessage();
        assertTrue(paged.contains("cannot bound every attention") && paged.contains("--mode lm-eval-rolling"), paged);
        String both = assertThrows(
                        IllegalArgumentException.class,
                        () -> Models.loadScorer(
                                o.withAttentionChunk(N).withScoring(ScoringMode.LM_EVAL_ROLLING, 16, 0)))
                .getMessage();
        assertTrue(both.contains("not both"), both);
    }
}
