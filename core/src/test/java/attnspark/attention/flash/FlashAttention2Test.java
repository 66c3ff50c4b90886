package attnspark.attention.flash;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.attention.AttentionFunction;
import attnspark.attention.AttentionMask;
import attnspark.attention.AttentionModule;
import attnspark.attention.BooleanMask;
import attnspark.attention.EagerAttention;
import attnspark.attention.PaddingMask;
import attnspark.attention.SdpaAttention;
import attnspark.attention.dispatch.AttentionInterface;
import attnspark.attention.dispatch.Masks;
import attnspark.attention.paged.PagedAttention;
import attnspark.cache.PagedKvCache;
import attnspark.models.SequenceBatch;
import attnspark.models.llama.LlamaModel;
import attnspark.tensor.FloatTensor;
import attnspark.testutil.Shared;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * flash_attention_2 against independent references: eager (the plain oracle) over an explicit
 * mask built here, and for varlen a naive loop that runs each sequence alone.
 */
class FlashAttention2Test {
    static final float TOL = 2e-5f;

    interface Visible {
        boolean test(int b, int i, int j);
    }

    static FloatTensor rand(Random r, int... shape) {
        FloatTensor t = FloatTensor.zeros(shape);
        for (int i = 0; i < t.data.length; i++) t.data[i] = (float) r.nextGaussian();
        return t;
    }

    static AttentionModule module(boolean causal, int groups, int D) {
        return AttentionModule.of(causal, 0, groups, (float) (1 / Math.sqrt(D)));
    }

    /** Eager over an explicit boolean mask; rows that see nothing are zero (flash's contract, not eager's uniform). */
    static FloatTensor eagerRef(
            AttentionModule m, FloatTensor q, FloatTensor k, FloatTensor v, Visible vis, Map<String, Object> kw) {
        int B = q.dim(0), H = q.dim(1), Sq = q.dim(2), Skv = k.dim(2), Dv = v.dim(3);
        boolean[] mask = new boolean[B * Sq * Skv];
        for (int b = 0; b < B; b++)
            for (int i = 0; i < Sq; i++) for (int j = 0; j < Skv; j++) mask[(b * Sq + i) * Skv + j] = vis.test(b, i, j);
        FloatTensor out = new EagerAttention()
                .apply(m, q, k, v, new BooleanMask(mask, B, Sq, Skv), kw)
                .output();
        for (int b = 0; b < B; b++)
            for (int i = 0; i < Sq; i++) {
                boolean any = false;
                for (int j = 0; j < Skv; j++) any |= mask[(b * Sq + i) * Skv + j];
                if (!any) for (int x = 0; x < H * Dv; x++) out.data[(b * Sq + i) * H * Dv + x] = 0f;
            }
        return out;
    }

    static void assertClose(FloatTensor want, FloatTensor got, float tol, String what) {
        assertArrayEquals(want.shape, got.shape, what);
        for (int i = 0; i < want.data.length; i++) {
            assertFalse(Float.isNaN(got.data[i]), what + ": NaN at " + i);
            assertEquals(want.data[i], got.data[i], tol, what + ": index " + i);
        }
    }

    static FloatTensor flash(
            AttentionModule m,
            FloatTensor q,
            FloatTensor k,
            FloatTensor v,
            AttentionMask mask,
            Map<String, Object> kw) {
        AttentionFunction fn = AttentionInterface.ALL.get("flash_attention_2");
        assertInstanceOf(FlashAttention2.class, fn);
        return fn.apply(m, q, k, v, mask, kw).output();
    }

    /** Rows [from, to) of the S axis of a (1, H, S, D) tensor. */
    static FloatTensor slice(FloatTensor x, int from, int to) {
        int H = x.dim(1), S = x.dim(2), D = x.dim(3), n = to - from;
        float[] out = new float[H * n * D];
        for (int h = 0; h < H; h++) System.arraycopy(x.data, (h * S + from) * D, out, h * n * D, n * D);
        return new FloatTensor(out, 1, H, n, D);
    }

    // ---- dense ----

    /** GQA 8/2 and 4/1, lengths around the 64-row tile, causal and not: equal to eager (repeat_kv). */
    @ParameterizedTest
    @CsvSource({"8,2", "4,1"})
    void denseGqaMatchesEagerAcrossTileBoundaries(int H, int Hkv) {
        Random r = new Random(H * 10 + Hkv);
        int D = 16;
        for (int S : new int[] {1, 63, 65, 127, 129, 200}) {
            for (boolean causal : new boolean[] {true, false}) {
                FloatTensor q = rand(r, 1, H, S, D), k = rand(r, 1, Hkv, S, D), v = rand(r, 1, Hkv, S, 12);
                AttentionModule m = module(causal, H / Hkv, D);
                FloatTensor want = eagerRef(m, q, k, v, (b, i, j) -> !causal || j <= i, Map.of());
                FloatTensor got = flash(m, q, k, v, null, Map.of());
                assertClose(want, got, TOL, "S=" + S + " causal=" + causal);
            }
        }
    }

    /** Sq != Skv (a cache): flash causal is bottom-right, query i sees keys <= i + Skv - Sq. */
    @ParameterizedTest
    @CsvSource({"5,12", "1,9", "70,200", "64,129"})
    void cacheOffsetIsBottomRightAligned(int Sq, int Skv) {
        Random r = new Random(Sq * 1000 + Skv);
        int H = 4, Hkv = 2, D = 8;
        FloatTensor q = rand(r, 2, H, Sq, D), k = rand(r, 2, Hkv, Skv, D), v = rand(r, 2, Hkv, Skv, D);
        AttentionModule m = module(true, 2, D);
        FloatTensor want = eagerRef(m, q, k, v, (b, i, j) -> j <= i + Skv - Sq, Map.of());
        assertClose(want, flash(m, q, k, v, null, Map.of()), TOL, "Sq=" + Sq + " Skv=" + Skv);
        // per-call is_causal=false overrides the module
        FloatTensor bidir = eagerRef(m, q, k, v, (b, i, j) -> true, Map.of());
        assertClose(bidir, flash(m, q, k, v, null, Map.of("is_causal", false)), TOL, "is_causal=false");
    }

    // ---- padding (varlen from the 2-D mask) ----

    /**
     * Left and right padding in one batch, masks from each backend's own formatter: non-pad rows
     * equal eager's and sdpa's (HF #36585: flash zeros pad query rows, sdpa does not), pad query rows are exactly zero, and causality holds
     * with padding (HF PR #41966: compared against causal eager).
     */
    @ParameterizedTest
    @CsvSource({"8,2", "4,1"})
    void paddedBatchMatchesEagerOnRealRowsAndZerosPadRows(int H, int Hkv) {
        Random r = new Random(7 + H);
        int B = 4, S = 70, D = 16;
        int[] valid = {70, 33, 1, 65};
        boolean[] left = {false, true, false, true};
        boolean[][] pad = new boolean[B][S];
        for (int b = 0; b < B; b++) for (int s = 0; s < S; s++) pad[b][s] = left[b] ? s >= S - valid[b] : s < valid[b];
        FloatTensor q = rand(r, B, H, S, D), k = rand(r, B, Hkv, S, D), v = rand(r, B, Hkv, S, D);
        AttentionModule m = module(true, H / Hkv, D);

        AttentionMask flashMask = Masks.createCausalMask(Masks.MaskInputs.of("flash_attention_2", B, S, pad));
        assertInstanceOf(PaddingMask.class, flashMask);
        FloatTensor got = flash(m, q, k, v, flashMask, Map.of());
        FloatTensor eager = new EagerAttention()
                .apply(m, q, k, v, Masks.createCausalMask(Masks.MaskInputs.of("eager", B, S, pad)), Map.of())
                .output();
        FloatTensor sdpa = new SdpaAttention()
                .apply(m, q, k, v, Masks.createCausalMask(Masks.MaskInputs.of("sdpa", B, S, pad)), Map.of())
                .output();
        for (int b = 0; b < B; b++)
            for (int i = 0; i < S; i++)
                for (int x = 0; x < H * D; x++) {
                    int idx = (b * S + i) * H * D + x;
                    if (!pad[b][i]) {
                        assertEquals(0f, got.data[idx], "pad query row b=" + b + " i=" + i + " must be 0");
                    } else {
                        assertEquals(eager.data[idx], got.data[idx], TOL, "eager b=" + b + " i=" + i);
                        assertEquals(sdpa.data[idx], got.data[idx], TOL, "sdpa b=" + b + " i=" + i);
                    }
                }
    }

    /** Decode with a padded cache: Sq == 1 keeps the one query per row; it sees every real key. */
    @Test
    void decodeStepWithLeftPaddedCache() {
        Random r = new Random(11);
        int B = 3, H = 8, Hkv = 2, past = 66, Skv = past + 1, D = 8;
        boolean[][] pad = new boolean[B][Skv];
        int[] lead = {0, 5, 60};
        for (int b = 0; b < B; b++) for (int s = 0; s < Skv; s++) pad[b][s] = s >= lead[b];
        FloatTensor q = rand(r, B, H, 1, D), k = rand(r, B, Hkv, Skv, D), v = rand(r, B, Hkv, Skv, D);
        AttentionModule m = module(true, 4, D);
        AttentionMask mask = Masks.createCausalMask(
                Masks.MaskInputs.of("flash_attention_2", B, 1, pad).withPastLength(past));
        FloatTensor want = eagerRef(m, q, k, v, (b, i, j) -> pad[b][j], Map.of());
        assertClose(want, flash(m, q, k, v, mask, Map.of()), TOL, "decode");
    }

    /** HF flash_attention_mask: the last kvLength columns, null when all true or absent. */
    @Test
    void flashMaskFormatter() {
        assertNull(Masks.createCausalMask(Masks.MaskInputs.of("flash_attention_2", 2, 4, null)));
        assertNull(Masks.createCausalMask(Masks.MaskInputs.of(
                "flash_attention_2", 2, 4, new boolean[][] {{true, true, true, true}, {true, true, true, true}})));
        boolean[][] pad = {{false, true, true}, {true, true, true}};
        AttentionMask m = Masks.createCausalMask(Masks.MaskInputs.of("flash_attention_2", 2, 3, pad));
        assertArrayEquals(pad, ((PaddingMask) m).realTokens());
        // sliding-window masks do not encode the window: flash does it from sliding_window
        assertArrayEquals(
                pad,
                ((PaddingMask) Masks.createSlidingWindowCausalMask(
                                Masks.MaskInputs.of("flash_attention_2", 2, 3, pad), 2))
                        .realTokens());
    }

    // ---- packed sequences ----

    static final int[] LENS = {5, 70, 1, 30};

    /** The naive reference: each packed sequence alone through eager (causal), zeros elsewhere. */
    static FloatTensor perSequence(
            AttentionModule m, FloatTensor q, FloatTensor k, FloatTensor v, int[] cuq, int[] cuk) {
        int H = q.dim(1), Sq = q.dim(2), Dv = v.dim(3);
        float[] out = new float[Sq * H * Dv];
        for (int s = 0; s + 1 < cuq.length; s++) {
            int nq = cuq[s + 1] - cuq[s], nk = cuk[s + 1] - cuk[s];
            if (nq == 0) continue;
            FloatTensor o = eagerRef(
                    m,
                    slice(q, cuq[s], cuq[s + 1]),
                    slice(k, cuk[s], cuk[s + 1]),
                    slice(v, cuk[s], cuk[s + 1]),
                    (b, i, j) -> j <= i + nk - nq,
                    Map.of());
            System.arraycopy(o.data, 0, out, cuq[s] * H * Dv, nq * H * Dv);
        }
        return new FloatTensor(out, 1, Sq, H, Dv);
    }

    /** position_ids restarting at a common minimum (0, or 2 as in RoBERTa-style ids, HF E5c). */
    @ParameterizedTest
    @ValueSource(ints = {0, 2})
    void packedPositionIdsEqualEachSequenceAlone(int start) {
        Random r = new Random(21 + start);
        int H = 8, Hkv = 2, D = 16, T = 0;
        for (int n : LENS) T += n;
        int[] pos = new int[T];
        int[] cu = new int[LENS.length + 1];
        for (int s = 0, t = 0; s < LENS.length; s++) {
            cu[s] = t;
            for (int i = 0; i < LENS[s]; i++) pos[t++] = start + i;
        }
        cu[LENS.length] = T;
        FloatTensor q = rand(r, 1, H, T, D), k = rand(r, 1, Hkv, T, D), v = rand(r, 1, Hkv, T, D);
        AttentionModule m = module(true, 4, D);
        FloatTensor got = flash(m, q, k, v, null, Map.of("position_ids", new int[][] {pos}));
        assertClose(perSequence(m, q, k, v, cu, cu), got, TOL, "packed from position_ids, start " + start);
        // not packed (one arange + min): plain dense causal
        int[] one = new int[T];
        for (int i = 0; i < T; i++) one[i] = start + i;
        assertClose(
                flash(m, q, k, v, null, Map.of()),
                flash(m, q, k, v, null, Map.of("position_ids", new int[][] {one})),
                0f,
                "arange positions are not packed");
    }

    /** Explicit cu_seq_lens with different q and k lengths per sequence (bottom-right within each). */
    @ParameterizedTest
    @ValueSource(strings = {"max_length", "max_seqlen"})
    void cuSeqLensEqualEachSequenceAlone(String maxName) {
        Random r = new Random(31);
        int H = 4, Hkv = 1, D = 8;
        int[] cuq = {0, 5, 75, 76, 106};
        int[] cuk = {0, 9, 79, 150, 200};
        FloatTensor q = rand(r, 1, H, 106, D), k = rand(r, 1, Hkv, 200, D), v = rand(r, 1, Hkv, 200, D);
        AttentionModule m = module(true, 4, D);
        Map<String, Object> kw = new HashMap<>();
        kw.put("cu_seq_lens_q", cuq);
        kw.put("cu_seq_lens_k", cuk);
        kw.put(maxName + "_q", 70);
        kw.put(maxName + "_k", 71);
        assertClose(perSequence(m, q, k, v, cuq, cuk), flash(m, q, k, v, null, kw), TOL, "cu_seq_lens");
        kw.put(maxName + "_k", 50);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> flash(m, q, k, v, null, kw));
        assertTrue(e.getMessage().contains("max length"), e.getMessage());
    }

    // ---- sliding window ----

    /** Ones-hot V (value row j = e_j) and q = 0: output row i is uniform over the keys it sees. */
    static int[] visibleCounts(String backend, int S, int w) {
        int H = 2;
        FloatTensor q = FloatTensor.zeros(1, H, S, 4), k = new FloatTensor(new float[H * S * 4], 1, H, S, 4);
        FloatTensor v = FloatTensor.zeros(1, H, S, S);
        for (int h = 0; h < H; h++) for (int j = 0; j < S; j++) v.data[(h * S + j) * S + j] = 1f;
        AttentionModule m = module(true, 1, 4);
        AttentionMask mask = Masks.createSlidingWindowCausalMask(Masks.MaskInputs.of(backend, 1, S, null), w);
        FloatTensor out = AttentionInterface.ALL
                .get(backend)
                .apply(m, q, k, v, mask, Map.of("sliding_window", w))
                .output();
        int[] counts = new int[S];
        for (int i = 0; i < S; i++) {
            for (int h = 0; h < H; h++) {
                int n = 0;
                for (int d = 0; d < S; d++) {
                    float x = out.data[(i * H + h) * S + d];
                    assertFalse(Float.isNaN(x));
                    if (x != 0f) n++;
                }
                if (h == 0) counts[i] = n;
                else assertEquals(counts[i], n);
            }
        }
        return counts;
    }

    /** Visible keys per row = min(row+1, w) (the FA window_size=(w-1, w-1) off-by-one fixed in HF PR #39408); Skv <= w means no window. AttentionParityTest runs windows on every registered backend. */
    @ParameterizedTest
    @ValueSource(strings = {"eager", "sdpa", "flex_attention", "flash_attention_2"})
    void slidingWindowVisibleCountIsMinOfRowAndWindowForEagerSdpaFlexAndFlash(String backend) {
        int S = 16;
        for (int w : new int[] {1, 2, 3, 7, 16, 20}) {
            int[] counts = visibleCounts(backend, S, w);
            for (int i = 0; i < S; i++) assertEquals(Math.min(i + 1, w), counts[i], backend + " w=" + w + " row " + i);
        }
    }

    /** Random data, windows across tile edges, GQA: causal window kv in (i - w, i]; plus a cache offset. */
    @Test
    void slidingWindowMatchesEagerAcrossTiles() {
        Random r = new Random(41);
        int H = 8, Hkv = 2, D = 16;
        for (int w : new int[] {1, 3, 64, 65, 130}) {
            for (int[] sz : new int[][] {{200, 200}, {70, 200}}) {
                int Sq = sz[0], Skv = sz[1], off = Skv - Sq;
                FloatTensor q = rand(r, 1, H, Sq, D), k = rand(r, 1, Hkv, Skv, D), v = rand(r, 1, Hkv, Skv, D);
                AttentionModule m = module(true, 4, D);
                FloatTensor want = eagerRef(m, q, k, v, (b, i, j) -> j <= i + off && j > i + off - w, Map.of());
                assertClose(want, flash(m, q, k, v, null, Map.of("sliding_window", w)), TOL, "w=" + w + " Sq=" + Sq);
            }
        }
    }

    /**
     * HF's flash path (modeling_flash_attention_utils): bidirectional flash windows are FA's (w-1, w-1), |i - j| <= w-1, not the mask
     * primitive's |i - j| <= w. flash_attention_2 here follows the flash kernel.
     */
    @Test
    void bidirectionalWindowIsWMinusOneEachSide() {
        Random r = new Random(43);
        int S = 130, w = 5, D = 8;
        FloatTensor q = rand(r, 1, 2, S, D), k = rand(r, 1, 2, S, D), v = rand(r, 1, 2, S, D);
        AttentionModule m = module(false, 1, D);
        FloatTensor want = eagerRef(m, q, k, v, (b, i, j) -> Math.abs(i - j) <= w - 1, Map.of());
        assertClose(want, flash(m, q, k, v, null, Map.of("sliding_window", w)), TOL, "bidirectional window");
    }

    /** Tiles outside causal / window range are never computed. */
    @Test
    void tilesOutsideTheRangeAreSkipped() {
        Random r = new Random(47);
        int S = 256; // 4 x 4 tiles of 64
        FloatTensor q = rand(r, 1, 1, S, 8), k = rand(r, 1, 1, S, 8), v = rand(r, 1, 1, S, 8);
        FlashAttention2 fa = new FlashAttention2();
        fa.apply(module(false, 1, 8), q, k, v, null, Map.of());
        assertEquals(16, fa.tilesVisited());
        fa = new FlashAttention2();
        fa.apply(module(true, 1, 8), q, k, v, null, Map.of());
        assertEquals(10, fa.tilesVisited()); // lower triangle of tiles
        fa = new FlashAttention2();
        fa.apply(module(true, 1, 8), q, k, v, null, Map.of("sliding_window", 65));
        assertEquals(1 + 2 * 3, fa.tilesVisited()); // diagonal tile and the one left of it
        fa = new FlashAttention2(); // packed: only each sequence's own tiles
        fa.apply(
                module(true, 1, 8),
                q,
                k,
                v,
                null,
                Map.of("cu_seq_lens_q", new int[] {0, 64, 256}, "cu_seq_lens_k", new int[] {0, 64, 256}));
        assertEquals(1 + 6, fa.tilesVisited());
    }

    // ---- masks given as 4-D, empty rows ----

    @Test
    void fourDimensionalMaskPassesThroughAndEmptyRowsAreZero() {
        Random r = new Random(53);
        int B = 2, H = 4, Hkv = 2, Sq = 70, Skv = 90, D = 8;
        boolean[] data = new boolean[B * Sq * Skv];
        for (int i = 0; i < data.length; i++) data[i] = r.nextInt(4) == 0;
        for (int j = 0; j < Skv; j++) data[(0 * Sq + 3) * Skv + j] = false; // row 3 of batch 0 sees nothing
        for (int i = 0; i < Sq; i++)
            for (int j = 64; j < Skv; j++) data[(Sq + i) * Skv + j] = false; // an all-false tile
        BooleanMask mask = new BooleanMask(data, B, Sq, Skv);
        FloatTensor q = rand(r, B, H, Sq, D), k = rand(r, B, Hkv, Skv, D), v = rand(r, B, Hkv, Skv, D);
        AttentionModule m = module(true, 2, D); // causal is not added on top of a 4-D mask
        FloatTensor want = eagerRef(m, q, k, v, (b, i, j) -> mask.get(b, i, j), Map.of());
        FloatTensor got = flash(m, q, k, v, mask, Map.of());
        assertClose(want, got, TOL, "4-D mask");
        for (int x = 0; x < H * D; x++) assertEquals(0f, got.data[3 * H * D + x]);
        // a padding row with no real token at all: zeros, never NaN
        boolean[][] pad = {new boolean[Skv], new boolean[Skv]};
        for (int j = 0; j < Skv; j++) pad[1][j] = true;
        FloatTensor q2 = rand(r, B, H, Skv, D);
        FloatTensor got2 = flash(m, q2, k, v, new PaddingMask(pad), Map.of());
        for (int x = 0; x < Skv * H * D; x++) assertEquals(0f, got2.data[x]);
        for (float x : got2.data) assertFalse(Float.isNaN(x));
    }

    // ---- softcap and sinks ----

    /** eager (gemma2 / gpt-oss extras) vs flex vs flash, causal, GQA, logits large enough for the cap to bite. */
    @Test
    void softcapAndSinksAgreeAcrossEagerFlexAndFlash() {
        Random r = new Random(61);
        int H = 8, Hkv = 2, S = 129, D = 16;
        FloatTensor q = rand(r, 1, H, S, D), k = rand(r, 1, Hkv, S, D), v = rand(r, 1, Hkv, S, D);
        AttentionModule m = AttentionModule.of(true, 0, 4, 1.5f);
        float[] sinks = new float[H];
        for (int h = 0; h < H; h++) sinks[h] = (float) r.nextGaussian() * 2;
        AttentionMask flexMask = Masks.createCausalMask(Masks.MaskInputs.of("flex_attention", 1, S, null));
        AttentionMask eagerMask = Masks.createCausalMask(Masks.MaskInputs.of("eager", 1, S, null));
        for (Map<String, Object> kw : List.<Map<String, Object>>of(
                Map.of("softcap", 4.0f), Map.of("s_aux", sinks), Map.of("softcap", 4.0f, "s_aux", sinks))) {
            FloatTensor eager =
                    new EagerAttention().apply(m, q, k, v, eagerMask, kw).output();
            FloatTensor flex = AttentionInterface.ALL
                    .get("flex_attention")
                    .apply(m, q, k, v, flexMask, kw)
                    .output();
            FloatTensor fa = flash(m, q, k, v, null, kw);
            assertClose(eager, flex, TOL, "flex " + kw.keySet());
            assertClose(eager, fa, TOL, "flash " + kw.keySet());
        }
        // the cap changes the result (it is not a no-op at these logits)
        FloatTensor plain = flash(m, q, k, v, null, Map.of());
        FloatTensor capped = flash(m, q, k, v, null, Map.of("softcap", 4.0f));
        double diff = 0;
        for (int i = 0; i < plain.data.length; i++) diff = Math.max(diff, Math.abs(plain.data[i] - capped.data[i]));
        assertTrue(diff > 1e-2, "softcap had no effect: " + diff);
        // a sink of -inf is no sink, for eager and flash
        float[] none = new float[H];
        Arrays.fill(none, Float.NEGATIVE_INFINITY);
        assertClose(plain, flash(m, q, k, v, null, Map.of("s_aux", none)), 0f, "flash -inf sink");
        assertClose(
                new EagerAttention().apply(m, q, k, v, eagerMask, Map.of()).output(),
                new EagerAttention()
                        .apply(m, q, k, v, eagerMask, Map.of("s_aux", none))
                        .output(),
                0f,
                "eager -inf sink");
    }

    // ---- paged, errors ----

    /** paged|flash_attention_2 equals paged|eager step by step on identical caches (prefill, then decode). */
    @Test
    void pagedFlashEqualsPagedEager() {
        Random r = new Random(71);
        int H = 4, Hkv = 2, D = 8, L = 12, prefill = 8;
        FloatTensor q = rand(r, 1, H, L, D), k = rand(r, 1, Hkv, L, D), v = rand(r, 1, Hkv, L, D);
        AttentionModule m = module(true, 2, D);
        AttentionFunction fa = AttentionInterface.ALL.get("paged|flash_attention_2"),
                eager = AttentionInterface.ALL.get("paged|eager");
        assertInstanceOf(PagedAttention.class, fa);
        PagedKvCache cf = new PagedKvCache(1, 8, 4, Hkv, D), ce = new PagedKvCache(1, 8, 4, Hkv, D);
        for (int t = 0; t < L; t = t == 0 ? prefill : t + 1) {
            int end = t == 0 ? prefill : t + 1;
            Map<String, Object> kf = new HashMap<>(Map.of("cache", cf, "seq_ids", new int[] {0}, "sliding_window", 5));
            Map<String, Object> ke = new HashMap<>(Map.of("cache", ce, "seq_ids", new int[] {0}, "sliding_window", 5));
            FloatTensor a = fa.apply(m, slice(q, t, end), slice(k, t, end), slice(v, t, end), null, kf)
                    .output();
            FloatTensor b = eager.apply(m, slice(q, t, end), slice(k, t, end), slice(v, t, end), null, ke)
                    .output();
            assertClose(b, a, TOL, "step at " + t);
        }
    }

    @Test
    void zeroDimensionIsAClearError() {
        FloatTensor q = FloatTensor.zeros(1, 2, 0, 4), k = FloatTensor.zeros(1, 2, 3, 4);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> flash(module(true, 1, 4), q, k, k, null, Map.of()));
        assertTrue(e.getMessage().contains("zero dimension"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"flash_attention_3", "paged|flash_attention_3"})
    void flashAttention3ExplainsWhatItNeeds(String name) {
        FloatTensor x = FloatTensor.zeros(1, 1, 2, 4);
        UnsupportedOperationException e = assertThrows(
                UnsupportedOperationException.class,
                () -> AttentionInterface.ALL.get(name).apply(module(true, 1, 4), x, x, x, null, Map.of()));
        assertTrue(e.getMessage().contains("Hopper (sm_90)"), e.getMessage());
        assertTrue(e.getMessage().contains("-Pcuda"), e.getMessage());
        assertTrue(e.getMessage().contains(name.replace("3", "2")), e.getMessage());
        // and a model refuses it when it is selected, before any forward (HF's init-time check)
        LlamaModel m = LlamaModel.fromPretrained(Shared.stories260k(), "eager");
        UnsupportedOperationException atSet =
                assertThrows(UnsupportedOperationException.class, () -> m.setAttnImplementation(name));
        assertTrue(atSet.getMessage().contains("Hopper"), atSet.getMessage());
        assertEquals("eager", m.attnImplementation(), "a refused switch leaves the model as it was");
    }

    // ---- model level ----

    /** stories260K (GQA 8/4): flash_attention_2 log-probs equal eager's, one prompt and a right-padded batch. */
    @Test
    void stories260kFlashMatchesEager() {
        Path dir = Shared.stories260k();
        LlamaModel eager = LlamaModel.fromPretrained(dir, "eager");
        LlamaModel fa = LlamaModel.fromPretrained(dir, "flash_attention_2");
        Random r = new Random(81);
        int[][] ids = new int[3][];
        int[] lens = {7, 70, 33};
        for (int b = 0; b < 3; b++) {
            ids[b] = new int[lens[b]];
            ids[b][0] = 1;
            for (int i = 1; i < lens[b]; i++) ids[b][i] = 3 + r.nextInt(500);
        }
        for (SequenceBatch batch :
                new SequenceBatch[] {new SequenceBatch(new int[][] {ids[1]}), new SequenceBatch(ids)}) {
            float[] a = Shared.logSoftmaxRows(eager, batch), b = Shared.logSoftmaxRows(fa, batch);
            double max = 0;
            for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
            assertTrue(max <= 1e-4, "max |Δ log p| = " + max + " for batch of " + batch.batch);
        }
    }
}
