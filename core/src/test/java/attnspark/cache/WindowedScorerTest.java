package attnspark.cache;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.api.ScoreResult;
import attnspark.attention.BooleanMask;
import attnspark.models.llama.CausalLmScorer;
import attnspark.models.llama.LlamaModel;
import attnspark.models.llama.WindowedScorer;
import attnspark.testutil.Shared;
import attnspark.tokenizer.TextTokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WindowedScorerTest {
    static final long SEED = 42;

    static int[] ids(int n, int vocab, long seed) {
        Random r = new Random(seed);
        int[] a = new int[n];
        a[0] = 1;
        for (int i = 1; i < n; i++) a[i] = 3 + r.nextInt(vocab - 3);
        return a;
    }

    /** Per-token log-probs of one plain causal forward over the whole sequence. */
    static float[] full(WindowedScorer.StepLm lm, int[] ids) {
        int n = ids.length;
        int[] pos = new int[n], tg = new int[n];
        for (int i = 0; i < n; i++) {
            pos[i] = i;
            tg[i] = i + 1 < n ? ids[i + 1] : -1;
        }
        return Arrays.copyOf(lm.logProbsOfNext(ids, pos, tg, Map.of()), n - 1);
    }

    static void assertClose(float[] want, float[] got, float tol, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], tol, what + " token " + (i + 1));
    }

    static PagedKvCache cacheFor(TinyLm lm, int window, int bs) {
        return new PagedKvCache(lm.layers, WindowedScorer.pagesNeeded(window, bs), bs, TinyLm.HKV, TinyLm.DH);
    }

    /** W >= n: one window, both versions equal plain full scoring. */
    @ParameterizedTest
    @CsvSource({"23,23,1", "23,23,23", "23,30,7", "23,40,40"})
    void windowCoveringTheDocumentEqualsFullScoring(int n, int w, int s) {
        int[] ids = ids(n, TinyLm.V, 1);
        TinyLm plain = new TinyLm(3, "sdpa", SEED);
        float[] want = full(plain, ids);
        ScoreResult rec = new WindowedScorer(plain, w, s).scoreRecompute(ids, true);
        assertArrayEquals(want, rec.tokenLogprobs());
        assertEquals(n - 1, rec.nTokens());
        double nll = 0;
        for (float x : want) nll -= x;
        assertEquals(nll, rec.nll(), 1e-9);
        assertEquals(Math.exp(nll / (n - 1)), rec.ppl(), 1e-9);
        for (String paged : new String[] {"paged|sdpa", "paged|eager"}) {
            TinyLm lm = new TinyLm(3, paged, SEED);
            PagedKvCache cache = cacheFor(lm, w, 4);
            ScoreResult kv = new WindowedScorer(lm, w, s).scoreKvReuse(ids, true, cache, 5);
            assertClose(want, kv.tokenLogprobs(), 1e-4f, paged);
            assertEquals(n - 1, kv.nTokens());
            assertEquals(cache.numPages(), cache.freePages());
            assertFalse(cache.contains(5));
        }
    }

    /**
     * One layer: the cached keys/values depend on the token alone, so KV reuse is exact in exact
     * arithmetic. Not in float32: recompute rotates window-relative positions (0..W-1), reuse the
     * absolute ones, and RoPE's q·k depends on p_q - p_k only up to the rounding of float32 cos/sin
     * at different angles, summed in a different order. Measured: at most 3.4e-6 per token and 1.1e-5
     * on the nll of 40 tokens; the bounds below are about 6x that (a few float32 ulps of log-probs ~ 4).
     */
    @ParameterizedTest
    @CsvSource({"8,4", "8,1", "8,7", "8,8", "6,5", "5,2", "2,1", "2,2", "12,5"})
    void oneLayerKvReuseEqualsRecompute(int w, int s) {
        int n = 41;
        int[] ids = ids(n, TinyLm.V, 2);
        WindowedScorer rec = new WindowedScorer(new TinyLm(1, "sdpa", SEED), w, s);
        TinyLm paged = new TinyLm(1, "paged|sdpa", SEED);
        ScoreResult a = rec.scoreRecompute(ids, true);
        PagedKvCache cache = cacheFor(paged, w, 4); // as small as the scorer promises
        ScoreResult b = new WindowedScorer(paged, w, s).scoreKvReuse(ids, true, cache, 0);
        assertClose(a.tokenLogprobs(), b.tokenLogprobs(), 2e-5f, "W=" + w + " S=" + s);
        assertEquals(a.nTokens(), b.nTokens());
        assertEquals(a.nll(), b.nll(), 6e-5);
        // with S < W every token after the first is scored; with S == W each window's first is not (HF)
        int dropped = s < w ? 0 : (n - 1) / w;
        assertEquals(n - 1 - dropped, a.nTokens(), "scored tokens");
        for (int t = 1; t < n; t++) {
            boolean isDropped = s == w && t % w == 0;
            assertEquals(isDropped, Float.isNaN(a.tokenLogprobs()[t - 1]), "token " + t);
        }
    }

    /** Recompute scores token t (in window k) from exactly tokens [k*S, t): check against one window's forward. */
    @Test
    void recomputeConditionsOnTheWindow() {
        int n = 30, w = 9, s = 4;
        int[] ids = ids(n, TinyLm.V, 3);
        TinyLm lm = new TinyLm(2, "sdpa", SEED);
        float[] lp = new WindowedScorer(lm, w, s).scoreRecompute(ids, true).tokenLogprobs();
        // windows: [0,9) scores 1..8, [4,13) scores 9..12, [8,17) 13..16, ..., [24,30) scores 29
        int[][] cases = {{5, 0}, {8, 0}, {9, 4}, {12, 4}, {13, 8}, {28, 20}, {29, 24}};
        for (int[] c : cases) {
            int t = c[0], begin = c[1];
            int[] ctx = Arrays.copyOfRange(ids, begin, t + 1);
            float[] f = full(lm, ctx);
            assertEquals(f[f.length - 1], lp[t - 1], 0f, "token " + t);
        }
    }

    /**
     * Several layers, W < n: KV reuse is not the recipe (context tokens keep the K/V of their own
     * window) but equals one full forward where query p sees keys [begin of the window scoring p+1, p].
     */
    @ParameterizedTest
    @CsvSource({"8,4", "8,1", "8,7", "6,5", "12,5"})
    void deepKvReuseEqualsSegmentMaskReference(int w, int s) {
        int n = 37;
        int[] ids = ids(n, TinyLm.V, 4);
        TinyLm eager = new TinyLm(3, "eager", SEED);
        int m = n - 1; // queries 0 .. n-2
        boolean[] mask = new boolean[m * m];
        int[] tg = new int[m], pos = new int[m];
        for (int q = 0; q < m; q++) {
            int k = 0;
            while (Math.min(k * s + w, n) <= q + 1) k++; // the window that scores token q+1
            for (int j = k * s; j <= q; j++) mask[q * m + j] = true;
            tg[q] = ids[q + 1];
            pos[q] = q;
        }
        float[] want = eager.run(Arrays.copyOf(ids, m), pos, tg, Map.of(), new BooleanMask(mask, 1, m, m));
        TinyLm paged = new TinyLm(3, "paged|eager", SEED);
        ScoreResult kv = new WindowedScorer(paged, w, s).scoreKvReuse(ids, true, cacheFor(paged, w, 4), 9);
        assertClose(want, kv.tokenLogprobs(), 2e-4f, "W=" + w + " S=" + s);
        // and it really is a different approximation from the recipe for a deep model, except when
        // windows share at most one token (S >= W - 1): then no cached K/V is reused across windows
        float[] rec = new WindowedScorer(new TinyLm(3, "sdpa", SEED), w, s)
                .scoreRecompute(ids, true)
                .tokenLogprobs();
        double maxDiff = 0;
        for (int i = 0; i < rec.length; i++) maxDiff = Math.max(maxDiff, Math.abs(rec[i] - kv.tokenLogprobs()[i]));
        if (s >= w - 1) {
            assertTrue(maxDiff < 2e-4, "S >= W-1: KV reuse should equal recompute, max diff " + maxDiff);
        } else {
            assertTrue(maxDiff > 1e-3, "KV reuse unexpectedly equals recompute for a 3-layer model: " + maxDiff);
        }
        // the first window is shared by both
        for (int t = 1; t < w; t++)
            assertEquals(rec[t - 1], kv.tokenLogprobs()[t - 1], 2e-4f, "first-window token " + t);
    }

    @Test
    void argumentChecks() {
        TinyLm lm = new TinyLm(1, "sdpa", SEED);
        assertThrows(IllegalArgumentException.class, () -> new WindowedScorer(lm, 1, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new WindowedScorer(lm, 8, 9));
        assertTrue(e.getMessage().contains("stride"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new WindowedScorer(lm, 8, 0));
        ScoreResult one = new WindowedScorer(lm, 8, 4).scoreRecompute(new int[] {1}, true);
        assertEquals(0, one.nTokens());
        assertTrue(Double.isNaN(one.ppl()));
        TinyLm paged = new TinyLm(1, "paged|sdpa", SEED);
        PagedKvCache tooSmall = new PagedKvCache(1, 1, 4, TinyLm.HKV, TinyLm.DH);
        assertThrows(
                PagedKvCache.OutOfPagesException.class,
                () -> new WindowedScorer(paged, 8, 4).scoreKvReuse(ids(20, TinyLm.V, 1), false, tooSmall, 0));
        assertEquals(1, tooSmall.freePages()); // freed on the way out
    }

    /** The real stories260K: the LlamaModel adapter against CausalLmScorer; paged|sdpa inside the real model. */
    @Test
    void stories260k() {
        Path dir = Shared.stories260k();
        int n = 90;
        int[] ids = ids(n, 512, 7);
        LlamaModel sdpa = LlamaModel.fromPretrained(dir, "sdpa");
        ScoreResult ref = new CausalLmScorer(sdpa, null, 4096, Map.of())
                .scoreTokens(new TextTokenizer.Tokens[] {new TextTokenizer.Tokens(ids, false)}, true)
                .get(0);
        WindowedScorer.StepLm lm = WindowedScorer.llama(sdpa, Map.of());
        ScoreResult whole = new WindowedScorer(lm, 128, 64).scoreRecompute(ids, true);
        assertClose(ref.tokenLogprobs(), whole.tokenLogprobs(), 1e-4f, "W >= n");
        assertEquals(ref.nll(), whole.nll(), 1e-3);
        assertEquals(ref.nTokens(), whole.nTokens());

        ScoreResult win = new WindowedScorer(lm, 32, 16).scoreRecompute(ids, true);
        assertEquals(n - 1, win.nTokens());
        for (int t = 1; t < 32; t++)
            assertEquals(ref.tokenLogprobs()[t - 1], win.tokenLogprobs()[t - 1], 1e-4f, "token " + t);
        double diff = 0;
        for (int t = 32; t < n; t++) {
            assertTrue(Float.isFinite(win.tokenLogprobs()[t - 1]));
            diff = Math.max(diff, Math.abs(ref.tokenLogprobs()[t - 1] - win.tokenLogprobs()[t - 1]));
        }
        assertTrue(diff > 1e-4, "shorter context should change later tokens");

        // paged|sdpa inside LlamaModel: a one-window KV-reuse run is a paged prefill and equals sdpa
        LlamaModel paged = LlamaModel.fromPretrained(dir, "paged|sdpa");
        PagedKvCache cache = new PagedKvCache(
                paged.config.layers(),
                WindowedScorer.pagesNeeded(128, 16),
                16,
                paged.config.kvHeads(),
                paged.config.headDim());
        WindowedScorer.StepLm plm = WindowedScorer.llama(paged, Map.of());
        ScoreResult kv = new WindowedScorer(plm, 128, 64).scoreKvReuse(ids, true, cache, 0);
        assertClose(ref.tokenLogprobs(), kv.tokenLogprobs(), 1e-4f, "paged|sdpa in LlamaModel");
        // a plain forward of a paged model without the cache raises (HF #48296)
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> new WindowedScorer(plm, 128, 64).scoreRecompute(ids, false));
        assertTrue(e.getMessage().contains("needs a PagedKvCache"), e.getMessage());
        // W < n: positions continue from the cache (RoPE at absolute positions). With S >= W - 1 the
        // windows share only the token they need, so KV reuse equals the recompute recipe exactly.
        ScoreResult reuse = new WindowedScorer(plm, 32, 31).scoreKvReuse(ids, true, cache, 1);
        ScoreResult recompute = new WindowedScorer(lm, 32, 31).scoreRecompute(ids, true);
        assertEquals(recompute.nTokens(), reuse.nTokens());
        assertClose(recompute.tokenLogprobs(), reuse.tokenLogprobs(), 1e-4f, "KV reuse, S = W - 1");
        // S < W - 1: first window exact, later tokens finite (a different, Transformer-XL-like context)
        ScoreResult overlap = new WindowedScorer(plm, 32, 16).scoreKvReuse(ids, true, cache, 2);
        for (int t = 1; t < 32; t++)
            assertEquals(ref.tokenLogprobs()[t - 1], overlap.tokenLogprobs()[t - 1], 1e-4f, "token " + t);
        for (float x : overlap.tokenLogprobs()) assertTrue(Float.isFinite(x));
        assertEquals(0, cache.freePages() - cache.numPages(), "every page given back");
    }
}
