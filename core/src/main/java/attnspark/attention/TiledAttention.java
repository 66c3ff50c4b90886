package attnspark.attention;

import attnspark.kernels.Parallel;
import attnspark.tensor.FloatTensor;
import java.util.Arrays;
import java.util.concurrent.atomic.LongAdder;

/**
 * The tiled online-softmax kernel (FlashAttention-2's loop order) shared by flash_attention_2 and
 * SDPA's FLASH_ATTENTION kernel: it never holds more than one {@value #TILE}x{@value #TILE} tile of
 * scores per thread, so memory grows with S, not S². Query head h reads kv head
 * {@code h / (Hq/Hkv)} by index (no repeat_kv); the output is (B, Sq, Hq, Dv).
 */
public final class TiledAttention {
    private TiledAttention() {}

    /** Query rows and key columns per tile. */
    public static final int TILE = 64;

    /**
     * Which query rows and key rows belong together. Sequence s lives in batch row batch[s]; its
     * local query i is physical row qRows[s][i] of the Sq axis, local key j is kRows[s][j] of Skv.
     * Physical query rows no sequence names are never written (they stay zero).
     */
    public record Segments(int[] batch, int[][] qRows, int[][] kRows) {
        /** One sequence per batch row: all Sq queries against all Skv keys. */
        public static Segments dense(int B, int Sq, int Skv) {
            int[] b = new int[B];
            int[][] q = new int[B][], k = new int[B][];
            int[] qAll = range(0, Sq), kAll = range(0, Skv);
            for (int i = 0; i < B; i++) {
                b[i] = i;
                q[i] = qAll;
                k[i] = kAll;
            }
            return new Segments(b, q, k);
        }
    }

    /**
     * Who sees whom in {@link #tiled}.
     *
     * @param segments    which query rows and key rows form each sequence
     * @param mask        dense visibility (B or 1, 1, Sq, >=Skv) in physical rows, or null
     * @param causal      local key j visible only if j <= i + align
     * @param bottomRight align = nk - nq (flash, HF's CB masks) instead of 0 (torch SDPA's is_causal)
     * @param window      0 = none, else keys within w-1 of i + align on either side (causal cuts the right)
     */
    public record Visibility(Segments segments, BooleanMask mask, boolean causal, boolean bottomRight, int window) {
        /** Flash's rule: causal aligned bottom-right, an optional sliding window and dense mask. */
        public static Visibility bottomRight(Segments segments, BooleanMask mask, boolean causal, int window) {
            return new Visibility(segments, mask, causal, true, window);
        }

        /** torch SDPA's {@code is_causal}: aligned top-left, no mask, no window. */
        public static Visibility topLeft(Segments segments, boolean causal) {
            return new Visibility(segments, null, causal, false, 0);
        }
    }

    /**
     * How a score is formed and normalised in {@link #tiled}.
     *
     * @param scaling multiplier of q·k
     * @param softcap 0 = none, else {@code softcap * tanh(s / softcap)}
     * @param sinks   one extra softmax logit per query head (no value row), or null
     */
    public record Logits(float scaling, float softcap, float[] sinks) {
        public static Logits scaled(float scaling) {
            return new Logits(scaling, 0f, null);
        }
    }

    /**
     * The shared tiled core (also SDPA's FLASH_ATTENTION kernel). For every (sequence, head,
     * query tile) it walks only the key tiles some row of the tile may see, keeping per row a
     * running max m, running sum l and an unnormalised accumulator, rescaled when m grows.
     *
     * @param out   (B, Sq, Hq, Dv), written only at rows some sequence names
     * @param tiles counts computed tiles, or null
     */
    public static void tiled(
            FloatTensor query,
            FloatTensor key,
            FloatTensor value,
            Visibility visibility,
            Logits logits,
            float[] out,
            LongAdder tiles) {
        final Segments segs = visibility.segments();
        final BooleanMask mask = visibility.mask();
        final boolean causal = visibility.causal(), bottomRight = visibility.bottomRight();
        final int window = visibility.window();
        final float scaling = logits.scaling(), softcap = logits.softcap();
        final float[] sinks = logits.sinks();
        final int H = query.dim(1), Sq = query.dim(2), D = query.dim(3);
        final int Hkv = key.dim(1), Skv = key.dim(2), Dv = value.dim(3), groups = H / Hkv, T = TILE;
        final float[] qd = query.data, kd = key.data, vd = value.data;
        // work units: (sequence, q-tile) pairs times heads
        int pairs = 0;
        for (int[] qr : segs.qRows()) pairs += (qr.length + T - 1) / T;
        // Under causality late q-tiles cost more than early ones and forRange hands out contiguous
        // chunks, so interleave first/last (0, n-1, 1, n-2, ...) to give every chunk a similar load.
        final int[] pairSeg = new int[pairs], pairTile = new int[pairs];
        for (int s = 0, p = 0; s < segs.qRows().length; s++) {
            for (int t = 0; t * T < segs.qRows()[s].length; t++, p++) {
                int slot = p < (pairs + 1) / 2 ? 2 * p : 2 * (pairs - 1 - p) + 1;
                pairSeg[slot] = s;
                pairTile[slot] = t;
            }
        }
        Parallel.forRange(pairs * H, 1, (from, to) -> {
            float[] kTile = new float[D * T]; // (D, T): the key tile transposed, so scores are axpy loops
            float[] scores = new float[T];
            float[] m = new float[T], l = new float[T];
            float[] acc = new float[T * Dv]; // (T, Dv) unnormalised output rows
            long visited = 0;
            for (int unit = from; unit < to; unit++) {
                int p = unit / H, h = unit % H, s = pairSeg[p];
                int b = segs.batch()[s];
                int[] qr = segs.qRows()[s], kr = segs.kRows()[s];
                int nq = qr.length, nk = kr.length;
                int align = bottomRight ? nk - nq : 0;
                int q0 = pairTile[p] * T, q1 = Math.min(nq, q0 + T), rows = q1 - q0;
                int kvHead = b * Hkv + h / groups;
                int mb = mask == null ? 0 : (mask.batch() == 1 ? 0 : b);
                Arrays.fill(m, 0, rows, Float.NEGATIVE_INFINITY);
                Arrays.fill(l, 0, rows, 0f);
                Arrays.fill(acc, 0, rows * Dv, 0f);
                // visible local keys of row i are [lo(i), hi(i)); both grow with i, so the tile's span is
                // [lo(q0), hi(q1-1)) and every key tile outside it is skipped without touching it
                int kLo = lo(q0, align, window), kHi = hi(q1 - 1, align, window, causal, nk);
                for (int k0 = (kLo / T) * T; k0 < kHi; k0 += T) {
                    int k1 = Math.min(nk, k0 + T);
                    if (mask != null && !anyVisible(mask, mb, qr, kr, q0, q1, k0, k1)) continue;
                    visited++;
                    for (int j = k0; j < k1; j++) {
                        int src = (kvHead * Skv + kr[j]) * D;
                        for (int d = 0; d < D; d++) kTile[d * T + j - k0] = kd[src + d];
                    }
                    for (int r = 0; r < rows; r++) {
                        int i = q0 + r;
                        int c0 = Math.max(k0, lo(i, align, window)) - k0;
                        int c1 = Math.min(k1, hi(i, align, window, causal, nk)) - k0;
                        if (c1 <= c0) continue;
                        int qOff = ((b * H + h) * Sq + qr[i]) * D;
                        Arrays.fill(scores, c0, c1, 0f);
                        for (int d = 0; d < D; d++) {
                            float x = qd[qOff + d] * scaling;
                            int row = d * T;
                            for (int j = c0; j < c1; j++) scores[j] += x * kTile[row + j];
                        }
                        float tileMax = Float.NEGATIVE_INFINITY;
                        for (int j = c0; j < c1; j++) {
                            float sc = scores[j];
                            if (softcap != 0f) sc = softcap * (float) Math.tanh(sc / softcap);
                            if (mask != null && !mask.get(mb, qr[i], kr[k0 + j])) sc = Float.NEGATIVE_INFINITY;
                            scores[j] = sc;
                            if (sc > tileMax) tileMax = sc;
                        }
                        if (tileMax == Float.NEGATIVE_INFINITY) continue;
                        float mNew = Math.max(m[r], tileMax);
                        float corr = m[r] == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(m[r] - mNew);
                        int aOff = r * Dv;
                        if (corr != 1f) for (int d = 0; d < Dv; d++) acc[aOff + d] *= corr;
                        float sum = 0f;
                        for (int j = c0; j < c1; j++) {
                            if (scores[j] == Float.NEGATIVE_INFINITY) continue;
                            float pj = (float) Math.exp(scores[j] - mNew);
                            sum += pj;
                            int vOff = (kvHead * Skv + kr[k0 + j]) * Dv;
                            for (int d = 0; d < Dv; d++) acc[aOff + d] += pj * vd[vOff + d];
                        }
                        l[r] = l[r] * corr + sum;
                        m[r] = mNew;
                    }
                }
                for (int r = 0; r < rows; r++) {
                    if (l[r] == 0f) continue; // saw nothing: zeros, never NaN
                    // a sink is one more logit in the denominator with no value row (gpt-oss)
                    float denom = sinks == null ? l[r] : l[r] + (float) Math.exp(sinks[h] - m[r]);
                    float inv = 1f / denom;
                    int oOff = ((b * Sq + qr[q0 + r]) * H + h) * Dv;
                    for (int d = 0; d < Dv; d++) out[oOff + d] = acc[r * Dv + d] * inv;
                }
            }
            if (tiles != null) tiles.add(visited);
        });
    }

    private static int lo(int i, int align, int window) {
        return window > 0 ? Math.max(0, i + align - (window - 1)) : 0;
    }

    private static int hi(int i, int align, int window, boolean causal, int nk) {
        if (causal) return Math.max(0, Math.min(nk, i + align + 1));
        if (window > 0) return Math.max(0, Math.min(nk, i + align + window));
        return nk;
    }

    private static boolean anyVisible(BooleanMask mask, int mb, int[] qr, int[] kr, int q0, int q1, int k0, int k1) {
        for (int i = q0; i < q1; i++) for (int j = k0; j < k1; j++) if (mask.get(mb, qr[i], kr[j])) return true;
        return false;
    }

    /** from, from + 1, ..., to - 1. */
    public static int[] range(int from, int to) {
        int[] a = new int[to - from];
        for (int i = 0; i < a.length; i++) a[i] = from + i;
        return a;
    }
}
