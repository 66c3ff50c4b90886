package attnspark.attention.flash;

import attnspark.attention.Attention;
import attnspark.attention.AttentionCapability;
import attnspark.attention.AttentionFunction;
import attnspark.attention.AttentionKwargs;
import attnspark.attention.AttentionMask;
import attnspark.attention.AttentionModule;
import attnspark.attention.AttentionOutput;
import attnspark.attention.BooleanMask;
import attnspark.attention.MaskFormatter;
import attnspark.attention.PaddingMask;
import attnspark.kernels.Parallel;
import attnspark.tensor.FloatTensor;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

import static attnspark.attention.AttentionCapability.*;

/**
 * HF's {@code flash_attention_forward} on the CPU, registered as {@value #NAME}: a tiled
 * online-softmax kernel (FlashAttention-2's loop order) that never holds more than one
 * {@value #TILE}x{@value #TILE} tile of scores per thread, so memory grows with S, not S².
 *
 * <p><b>Inputs.</b> query (B, Hq, Sq, D), key (B, Hkv, Skv, D), value (B, Hkv, Skv, Dv), Hq a
 * multiple of Hkv; query head h reads kv head {@code h / (Hq/Hkv)} by index (no repeat_kv).
 * <b>Output</b> (B, Sq, Hq, Dv); weights are always null (flash never materialises them).
 *
 * <p><b>mask</b>, one of:
 * <ul>
 *   <li>null: dense, or packed when kwargs say so (below);</li>
 *   <li>{@link PaddingMask} (B, Skv), true = real token: what {@link #flashAttentionMask} gives.
 *       Each row is unpadded (keys = its real tokens, queries = the real tokens among the last Sq
 *       columns; decode Sq == 1 keeps the one query) and run as its own sequence. Padded query
 *       rows come back as <b>zeros</b> (as HF's scatter back into zeros); causality still applies (HF PR #41966);</li>
 *   <li>{@link BooleanMask} (B or 1, 1, Sq, Skv): a dense mask from a caller (paged attention).
 *       It is then the whole visibility rule: causal and sliding window are not added on top,
 *       because such a mask already encodes them in absolute positions (HF's paged flash path
 *       also runs with {@code window_size=(-1,-1)}).</li>
 * </ul>
 *
 * <p><b>kwargs</b>: {@code scaling} (Number, default module.scaling()); {@code is_causal}
 * (Boolean, default module.isCausal()); causal is <b>bottom-right aligned</b>: local query i of a
 * sequence with nq queries and nk keys sees keys {@code <= i + nk - nq}. {@code sliding_window}
 * (Number, default module.slidingWindow()) becomes FA's {@code window_size=(w-1, w-1)} only when
 * Skv &gt; w (HF #39408: with causal each row sees min(row+1, w) keys). {@code softcap} (Number:
 * {@code softcap*tanh(s/softcap)} on the scaled logits). {@code s_aux} (float[] or FloatTensor of
 * Hq logits: an attention sink per head that joins the softmax denominator only, HF gpt-oss).
 * Varlen without a mask: {@code cu_seq_lens_q}/{@code cu_seq_lens_k} (int[], B == 1 packed) with
 * optional {@code max_length_q/k} (alias {@code max_seqlen_q/k}); else {@code position_ids}
 * (int[][], B == 1) that is not exactly arange + min starts a sequence wherever pos == min(pos).
 */
public final class FlashAttention2 implements AttentionFunction {
    public static final String NAME = "flash_attention_2";

    /** Not CHUNKED: HF raises for chunked attention under flash (see Masks.createChunkedCausalMask). */
    @Override
    public Set<AttentionCapability> capabilities() {
        return EnumSet.of(MASKED, PACKED, SLIDING_WINDOW, SOFTCAP, SINKS);
    }
    /** Query rows and key columns per tile. */
    public static final int TILE = 64;

    /** (segment, head, q-tile, kv-tile) tiles computed, summed over calls: skipped tiles never count. */
    final LongAdder tilesVisited = new LongAdder();

    long tilesVisited() {
        return tilesVisited.sum();
    }

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

    @Override
    public AttentionOutput apply(AttentionModule module, FloatTensor query, FloatTensor key, FloatTensor value,
                                 AttentionMask mask, Map<String, Object> kwargs) {
        Map<String, Object> kw = kwargs == null ? Map.of() : kwargs;
        checkShapes(query, key, value);
        int B = query.dim(0), H = query.dim(1), Sq = query.dim(2), Skv = key.dim(2), Dv = value.dim(3);
        double dropout = AttentionKwargs.dropout(kw);
        if (dropout > 0) {
            throw new IllegalArgumentException(NAME + " on the CPU is inference-only: dropout " + dropout + " is not supported;"
                    + " put the model in eval mode or use eager for training-style dropout");
        }
        float scaling = AttentionKwargs.scaling(module, kw);
        boolean causal = AttentionKwargs.isCausal(module, kw);
        Integer sw = AttentionKwargs.slidingWindow(module, kw);
        // HF: window_size = (sw-1, sw-1) only if key_length > sliding_window; otherwise the window covers everything
        int window = sw != null && sw > 0 && Skv > sw ? sw : 0;
        float softcap = AttentionKwargs.softcap(kw);
        float[] sinks = AttentionKwargs.sinks(kw, H);

        int[][] positionIds = AttentionKwargs.positionIds(kw);
        Segments segs;
        BooleanMask dense = null;
        if (mask instanceof PaddingMask pm) {
            segs = unpad(pm.realTokens(), B, Sq, Skv);
        } else if (mask instanceof BooleanMask bm) {
            if ((bm.batch() != B && bm.batch() != 1) || bm.qLength() != Sq || bm.kvLength() < Skv) {
                throw new IllegalArgumentException(NAME + ": 4-D mask (" + bm.batch() + ", 1, " + bm.qLength() + ", "
                        + bm.kvLength() + ") does not fit query/key (B=" + B + ", Sq=" + Sq + ", Skv=" + Skv + ")");
            }
            dense = bm;
            segs = Segments.dense(B, Sq, Skv);
            causal = false;     // the mask already says who sees whom
            window = 0;
        } else if (mask != null) {
            throw AttentionMask.unsupported(NAME, mask, "the PaddingMask its formatter builds, a 4-D BooleanMask, or null");
        } else if (kw.get(AttentionKwargs.CU_SEQ_LENS_Q) != null || kw.get(AttentionKwargs.CU_SEQ_LENS_K) != null) {
            segs = fromCuSeqLens(kw, B, Sq, Skv);
        } else if (positionIds != null && isPacked(positionIds, B)) {
            segs = fromPositionIds(positionIds[0], Sq, Skv);
        } else {
            segs = Segments.dense(B, Sq, Skv);
        }
        float[] out = new float[B * Sq * H * Dv];                    // (B, Sq, H, Dv), pad rows stay 0
        tiled(query, key, value, Visibility.bottomRight(segs, dense, causal, window), new Logits(scaling, softcap, sinks),
                out, tilesVisited);
        return new AttentionOutput(new FloatTensor(out, B, Sq, H, Dv), null);
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
    public static void tiled(FloatTensor query, FloatTensor key, FloatTensor value, Visibility visibility, Logits logits,
                             float[] out, LongAdder tiles) {
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
            float[] kTile = new float[D * T];      // (D, T): the key tile transposed, so scores are axpy loops
            float[] scores = new float[T];
            float[] m = new float[T], l = new float[T];
            float[] acc = new float[T * Dv];       // (T, Dv) unnormalised output rows
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
                    if (l[r] == 0f) continue;                // saw nothing: zeros, never NaN
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

    /**
     * HF {@code flash_attention_mask}: the 2-D padding mask sliced to its last kvLength columns,
     * or null when there is none or it is all true. Causality and windows are not encoded: the
     * kernel does them itself.
     */
    public static PaddingMask flashAttentionMask(MaskFormatter.MaskRequest r) {
        boolean[][] pm = r.paddingMask();
        if (pm == null) return null;
        int L = r.kvLength();
        boolean[][] out = new boolean[pm.length][];
        boolean all = true;
        for (int b = 0; b < pm.length; b++) {
            // a shorter mask (static-cache style) is kept as is, as newer HF does
            out[b] = pm[b].length > L ? Arrays.copyOfRange(pm[b], pm[b].length - L, pm[b].length) : pm[b];
            if (out[b].length != L) all = false;
            for (int i = 0; i < out[b].length && all; i++) all = out[b][i];
        }
        return all ? null : new PaddingMask(out);
    }

    // ---- varlen: HF prepare_fa_kwargs_from_attn_mask / _from_position_ids / explicit cu_seqlens ----

    private static Segments unpad(boolean[][] pm, int B, int Sq, int Skv) {
        if (pm.length != B) {
            throw new IllegalArgumentException(NAME + ": padding mask has " + pm.length + " rows for a batch of " + B);
        }
        if (Sq > Skv) {
            throw new IllegalArgumentException(NAME + ": " + Sq + " queries but only " + Skv + " keys with a padding mask;"
                    + " the mask must cover the keys (past + new tokens)");
        }
        int[] batch = new int[B];
        int[][] q = new int[B][], k = new int[B][];
        for (int b = 0; b < B; b++) {
            if (pm[b].length != Skv) {
                throw new IllegalArgumentException(NAME + ": padding mask row " + b + " has " + pm[b].length
                        + " columns but the key length is " + Skv + "; pass mask[:, -Skv:] (the flash formatter does)");
            }
            batch[b] = b;
            int nk = 0;
            for (boolean x : pm[b]) if (x) nk++;
            k[b] = new int[nk];
            for (int j = 0, n = 0; j < Skv; j++) if (pm[b][j]) k[b][n++] = j;
            if (Sq == 1) {
                q[b] = new int[]{0};                 // decode: every row has its one query (cu_seqlens_q = arange)
            } else {
                int nq = 0;
                for (int i = 0; i < Sq; i++) if (pm[b][Skv - Sq + i]) nq++;
                q[b] = new int[nq];
                for (int i = 0, n = 0; i < Sq; i++) if (pm[b][Skv - Sq + i]) q[b][n++] = i;
            }
        }
        return new Segments(batch, q, k);
    }

    /** HF _is_packed_sequence: B == 1 and the positions are not exactly arange(L) + min. */
    static boolean isPacked(int[][] pos, int B) {
        if (B != 1 || pos.length != 1) return false;
        int[] p = pos[0];
        int min = Integer.MAX_VALUE;
        for (int x : p) min = Math.min(min, x);
        for (int i = 0; i < p.length; i++) if (p[i] != min + i) return true;
        return false;
    }

    private static Segments fromPositionIds(int[] pos, int Sq, int Skv) {
        if (pos.length != Sq || Sq != Skv) {
            throw new IllegalArgumentException(NAME + ": packed position_ids need one position per token and Sq == Skv"
                    + " (got " + pos.length + " positions, Sq=" + Sq + ", Skv=" + Skv + "); with a cache pass a padding mask");
        }
        int min = Integer.MAX_VALUE;
        for (int x : pos) min = Math.min(min, x);
        int n = 0;
        for (int x : pos) if (x == min) n++;
        int[] cu = new int[n + 1];
        for (int i = 0, s = 0; i < pos.length; i++) if (pos[i] == min) cu[s++] = i;
        cu[n] = pos.length;                          // tokens before the first start belong to no sequence
        return fromCu(cu, cu);
    }

    private static Segments fromCuSeqLens(Map<String, Object> kw, int B, int Sq, int Skv) {
        int[] cuq = AttentionKwargs.ints(kw, AttentionKwargs.CU_SEQ_LENS_Q), cuk = AttentionKwargs.ints(kw, AttentionKwargs.CU_SEQ_LENS_K);
        if (cuq == null || cuk == null) {
            throw new IllegalArgumentException(NAME + ": pass both cu_seq_lens_q and cu_seq_lens_k as int[] (cumulative"
                    + " sequence starts, first 0, last the token count)");
        }
        if (B != 1) {
            throw new IllegalArgumentException(NAME + ": cu_seq_lens need the packed layout with batch 1, got batch " + B);
        }
        if (cuq.length != cuk.length || cuq.length < 2) {
            throw new IllegalArgumentException(NAME + ": cu_seq_lens_q (" + cuq.length + " entries) and cu_seq_lens_k ("
                    + cuk.length + ") must describe the same number (>= 1) of sequences");
        }
        checkCu(cuq, Sq, AttentionKwargs.CU_SEQ_LENS_Q,
                AttentionKwargs.intOrAlias(kw, AttentionKwargs.MAX_LENGTH_Q, AttentionKwargs.MAX_SEQLEN_Q));
        checkCu(cuk, Skv, AttentionKwargs.CU_SEQ_LENS_K,
                AttentionKwargs.intOrAlias(kw, AttentionKwargs.MAX_LENGTH_K, AttentionKwargs.MAX_SEQLEN_K));
        return fromCu(cuq, cuk);
    }

    private static void checkCu(int[] cu, int total, String name, Integer max) {
        if (cu[0] < 0 || cu[cu.length - 1] > total) {
            throw new IllegalArgumentException(NAME + ": " + name + " " + Arrays.toString(cu) + " must lie within 0.." + total);
        }
        for (int i = 1; i < cu.length; i++) {
            int len = cu[i] - cu[i - 1];
            if (len < 0) throw new IllegalArgumentException(NAME + ": " + name + " " + Arrays.toString(cu) + " must not decrease");
            if (max != null && len > max) {
                throw new IllegalArgumentException(NAME + ": sequence " + (i - 1) + " has " + len + " tokens but the max"
                        + " length passed is " + max + "; pass max_length = the longest sequence");
            }
        }
    }

    private static Segments fromCu(int[] cuq, int[] cuk) {
        int n = cuq.length - 1;
        int[][] q = new int[n][], k = new int[n][];
        for (int s = 0; s < n; s++) {
            q[s] = range(cuq[s], cuq[s + 1]);
            k[s] = range(cuk[s], cuk[s + 1]);
        }
        return new Segments(new int[n], q, k);
    }

    private static int[] range(int from, int to) {
        int[] a = new int[to - from];
        for (int i = 0; i < a.length; i++) a[i] = from + i;
        return a;
    }

    // ---- argument checks ----

    static void checkShapes(FloatTensor query, FloatTensor key, FloatTensor value) {
        for (FloatTensor t : new FloatTensor[]{query, key, value}) {
            for (int d : t.shape) {
                if (d == 0) {
                    throw new IllegalArgumentException("Tensor query " + query + ", key " + key + ", value " + value
                            + " has a zero dimension; flash attention does not take empty inputs. Drop empty batches"
                            + " or sequences before calling attention.");
                }
            }
        }
        Attention.checkShapes(query, key, value);
    }
}
