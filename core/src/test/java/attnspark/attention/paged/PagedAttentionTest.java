package attnspark.attention.paged;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.attention.AttentionFunction;
import attnspark.attention.AttentionModule;
import attnspark.attention.BooleanMask;
import attnspark.attention.EagerAttention;
import attnspark.attention.dispatch.AttentionInterface;
import attnspark.cache.PagedKvCache;
import attnspark.tensor.FloatTensor;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PagedAttentionTest {
    static final int D = 8;

    static float[] rand(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = r.nextFloat() * 2 - 1;
        return a;
    }

    /** Rows [from, to) of a (1, H, L, D) tensor as (1, H, to-from, D). */
    static FloatTensor slice(FloatTensor x, int from, int to) {
        int H = x.dim(1), L = x.dim(2), n = to - from;
        float[] out = new float[H * n * D];
        for (int h = 0; h < H; h++) System.arraycopy(x.data, (h * L + from) * D, out, h * n * D, n * D);
        return new FloatTensor(out, 1, H, n, D);
    }

    /** Stacks B (1, H, n, D) tensors of equal n into (B, H, n, D). */
    static FloatTensor stack(FloatTensor... xs) {
        int per = xs[0].size();
        float[] out = new float[per * xs.length];
        for (int b = 0; b < xs.length; b++) System.arraycopy(xs[b].data, 0, out, b * per, per);
        return new FloatTensor(out, xs.length, xs[0].dim(1), xs[0].dim(2), xs[0].dim(3));
    }

    /** The oracle: non-cached eager over the whole sequence with an explicit causal mask, (1, L, H, D). */
    static FloatTensor fullEager(AttentionModule m, FloatTensor q, FloatTensor k, FloatTensor v, int window) {
        int L = q.dim(2);
        boolean[] mask = new boolean[L * L];
        for (int i = 0; i < L; i++)
            for (int j = 0; j < L; j++) mask[i * L + j] = j <= i && (window == 0 || j > i - window);
        return new EagerAttention()
                .apply(m, q, k, v, new BooleanMask(mask, 1, L, L), Map.of())
                .output();
    }

    static void assertRows(FloatTensor want, int wantFrom, FloatTensor got, int row, int n, String what) {
        int H = want.dim(2), Lw = want.dim(1), Sg = got.dim(1);
        for (int i = 0; i < n; i++) {
            for (int x = 0; x < H * D; x++) {
                assertEquals(
                        want.data[(wantFrom + i) * H * D + x],
                        got.data[(row * Sg + i) * H * D + x],
                        2e-5f,
                        what + " token " + (wantFrom + i) + " of " + Lw);
            }
        }
    }

    static Map<String, Object> kw(PagedKvCache c, int layer, int... seqIds) {
        Map<String, Object> m = new HashMap<>();
        m.put("cache", c);
        m.put("layer_idx", layer);
        m.put("seq_ids", seqIds);
        return m;
    }

    /**
     * Prefill 7 tokens, then 5 single-token steps, for two sequences interleaved (their own
     * prefills, then batched decode steps over both), over two layers: every step's output equals
     * the matching rows of one full non-cached eager pass. GQA 4/2 and MHA 2/2.
     */
    @ParameterizedTest
    @CsvSource({
        "paged|eager,4,2",
        "paged|sdpa,4,2",
        "paged|eager,2,2",
        "paged|sdpa,2,2",
        "paged|sdpa,6,1",
        "paged|flash_attention_2,4,2",
        "paged|flash_attention_2,6,1"
    })
    void incrementalDecodingEqualsFullEager(String name, int H, int Hkv) {
        AttentionFunction fn = AttentionInterface.ALL.get(name);
        assertInstanceOf(PagedAttention.class, fn);
        Random r = new Random(H * 31 + Hkv);
        int layers = 2, prefill = 7, steps = 5, L = prefill + steps;
        int[] ids = {3, 11};
        FloatTensor[][] q = new FloatTensor[layers][2], k = new FloatTensor[layers][2], v = new FloatTensor[layers][2];
        FloatTensor[][] want = new FloatTensor[layers][2];
        AttentionModule[] mod = new AttentionModule[layers];
        for (int l = 0; l < layers; l++) {
            mod[l] = AttentionModule.of(true, l, H / Hkv, (float) (1 / Math.sqrt(D)));
            for (int s = 0; s < 2; s++) {
                q[l][s] = new FloatTensor(rand(r, H * L * D), 1, H, L, D);
                k[l][s] = new FloatTensor(rand(r, Hkv * L * D), 1, Hkv, L, D);
                v[l][s] = new FloatTensor(rand(r, Hkv * L * D), 1, Hkv, L, D);
                want[l][s] = fullEager(mod[l], q[l][s], k[l][s], v[l][s], 0);
            }
        }
        PagedKvCache cache = new PagedKvCache(layers, 8, 4, Hkv, D); // pages shared and interleaved
        // prefills: sequence 0 then 1, each layer in order (layer_idx from the module this time)
        for (int s = 0; s < 2; s++) {
            for (int l = 0; l < layers; l++) {
                Map<String, Object> kw = kw(cache, l, ids[s]);
                kw.remove("layer_idx");
                FloatTensor out = fn.apply(
                                mod[l],
                                slice(q[l][s], 0, prefill),
                                slice(k[l][s], 0, prefill),
                                slice(v[l][s], 0, prefill),
                                null,
                                kw)
                        .output();
                assertArrayEquals(new int[] {1, prefill, H, D}, out.shape);
                assertRows(want[l][s], 0, out, 0, prefill, name + " prefill seq " + s + " layer " + l);
            }
        }
        // decode: both sequences in one batch, row order swapped on odd steps
        for (int t = prefill; t < L; t++) {
            int[] order = (t % 2 == 0) ? new int[] {0, 1} : new int[] {1, 0};
            for (int l = 0; l < layers; l++) {
                FloatTensor out = fn.apply(
                                mod[l],
                                stack(slice(q[l][order[0]], t, t + 1), slice(q[l][order[1]], t, t + 1)),
                                stack(slice(k[l][order[0]], t, t + 1), slice(k[l][order[1]], t, t + 1)),
                                stack(slice(v[l][order[0]], t, t + 1), slice(v[l][order[1]], t, t + 1)),
                                null,
                                kw(cache, l, ids[order[0]], ids[order[1]]))
                        .output();
                for (int b = 0; b < 2; b++) {
                    assertRows(want[l][order[b]], t, out, b, 1, name + " decode seq " + order[b] + " layer " + l);
                }
            }
        }
        assertEquals(L, cache.length(ids[0]));
        assertEquals(L, cache.length(ids[1]));
        assertEquals(8 - 2 * 3, cache.freePages());
    }

    /** Rows with different numbers of new tokens in one call: query_lengths, padded rows are zero. */
    @ParameterizedTest
    @ValueSource(strings = {"paged|eager", "paged|sdpa", "paged|flash_attention_2"})
    void raggedStepsWithQueryLengthsAndSlidingWindow(String name) {
        AttentionFunction fn = AttentionInterface.ALL.get(name);
        Random r = new Random(5);
        int H = 4, Hkv = 2, L = 10, window = 3;
        AttentionModule m = AttentionModule.of(true, 0, H / Hkv, 0.4f);
        FloatTensor[] q = new FloatTensor[2],
                k = new FloatTensor[2],
                v = new FloatTensor[2],
                want = new FloatTensor[2],
                wantSw = new FloatTensor[2];
        for (int s = 0; s < 2; s++) {
            q[s] = new FloatTensor(rand(r, H * L * D), 1, H, L, D);
            k[s] = new FloatTensor(rand(r, Hkv * L * D), 1, Hkv, L, D);
            v[s] = new FloatTensor(rand(r, Hkv * L * D), 1, Hkv, L, D);
            want[s] = fullEager(m, q[s], k[s], v[s], 0);
            wantSw[s] = fullEager(m, q[s], k[s], v[s], window);
        }
        for (boolean sliding : new boolean[] {false, true}) {
            PagedKvCache cache = new PagedKvCache(1, 8, 4, Hkv, D);
            int[][] chunks = {{4, 1}, {3, 2}, {1, 3}, {2, 4}}; // per call: new tokens of seq 0 and of seq 1
            int[] pos = {0, 0};
            for (int[] ch : chunks) {
                int S = Math.max(ch[0], ch[1]);
                FloatTensor[] qs = new FloatTensor[2], ks = new FloatTensor[2], vs = new FloatTensor[2];
                for (int s = 0; s < 2; s++) { // right-pad each row to S with garbage that must be ignored
                    int end = Math.min(pos[s] + S, L);
                    qs[s] = padTo(slice(q[s], pos[s], end), S);
                    ks[s] = padTo(slice(k[s], pos[s], end), S);
                    vs[s] = padTo(slice(v[s], pos[s], end), S);
                }
                Map<String, Object> kw = kw(cache, 0, 0, 1);
                kw.put("query_lengths", new int[] {ch[0], ch[1]});
                if (sliding) kw.put("sliding_window", window);
                FloatTensor out =
                        fn.apply(m, stack(qs), stack(ks), stack(vs), null, kw).output();
                for (int s = 0; s < 2; s++) {
                    assertRows(
                            sliding ? wantSw[s] : want[s],
                            pos[s],
                            out,
                            s,
                            ch[s],
                            name + " sliding=" + sliding + " seq " + s);
                    for (int i = ch[s]; i < S; i++) {
                        for (int x = 0; x < H * D; x++) assertEquals(0f, out.data[((s * S) + i) * H * D + x]);
                    }
                    pos[s] += ch[s];
                }
            }
            assertEquals(10, cache.length(0));
            assertEquals(10, cache.length(1));
        }
    }

    static FloatTensor padTo(FloatTensor x, int S) {
        int H = x.dim(1), n = x.dim(2);
        float[] out = new float[H * S * D];
        Arrays.fill(out, 7f);
        for (int h = 0; h < H; h++) System.arraycopy(x.data, h * n * D, out, h * S * D, n * D);
        return new FloatTensor(out, 1, H, S, D);
    }

    /** HF #48296 / PR #48297: a paged implementation without a paged cache raises instead of computing. */
    @ParameterizedTest
    @ValueSource(strings = {"paged|eager", "paged|sdpa"})
    void withoutPagedCacheRaises(String name) {
        AttentionFunction fn = AttentionInterface.ALL.get(name);
        AttentionModule m = AttentionModule.of(true, 0, 1, 1f);
        FloatTensor x = new FloatTensor(new float[2 * D], 1, 1, 2, D);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> fn.apply(m, x, x, x, null, Map.of()));
        assertTrue(e.getMessage().contains("needs a PagedKvCache"), e.getMessage());
        assertTrue(e.getMessage().contains(name), e.getMessage());
        Map<String, Object> wrong = new HashMap<>();
        wrong.put("cache", "not a cache");
        e = assertThrows(IllegalArgumentException.class, () -> fn.apply(m, x, x, x, null, wrong));
        assertTrue(e.getMessage().contains("needs a PagedKvCache"), e.getMessage());
        PagedKvCache c = new PagedKvCache(1, 2, 4, 1, D);
        Map<String, Object> noSeq = new HashMap<>();
        noSeq.put("cache", c);
        e = assertThrows(IllegalArgumentException.class, () -> fn.apply(m, x, x, x, null, noSeq));
        assertTrue(e.getMessage().contains("seq_ids"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> fn.apply(m, x, x, x, new BooleanMask(new boolean[4], 1, 2, 2), kw(c, 0, 1)));
        assertTrue(e.getMessage().contains("mask == null"), e.getMessage());
    }

    @Test
    void outOfPagesSurfacesFromTheForward() {
        AttentionFunction fn = AttentionInterface.ALL.get("paged|sdpa");
        AttentionModule m = AttentionModule.of(true, 0, 1, 1f);
        PagedKvCache c = new PagedKvCache(1, 1, 4, 1, D);
        FloatTensor x = new FloatTensor(new float[5 * D], 1, 1, 5, D);
        PagedKvCache.OutOfPagesException e =
                assertThrows(PagedKvCache.OutOfPagesException.class, () -> fn.apply(m, x, x, x, null, kw(c, 0, 1)));
        assertEquals(2, e.needed());
        assertEquals(1, e.free());
    }
}
