package attnspark.attention.flash;

import static attnspark.attention.AttentionCapability.*;

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
import attnspark.attention.TiledAttention;
import attnspark.attention.TiledAttention.Logits;
import attnspark.attention.TiledAttention.Segments;
import attnspark.attention.TiledAttention.Visibility;
import attnspark.tensor.FloatTensor;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * HF's {@code flash_attention_forward} on the CPU, registered as {@value #NAME}: this class turns
 * the mask and kwargs into sequences and a visibility rule, and {@link TiledAttention} (a tiled
 * online-softmax kernel in FlashAttention-2's loop order, memory O(S)) computes them.
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

    /** (segment, head, q-tile, kv-tile) tiles computed, summed over calls: skipped tiles never count. */
    final LongAdder tilesVisited = new LongAdder();

    long tilesVisited() {
        return tilesVisited.sum();
    }

    @Override
    public AttentionOutput apply(
            AttentionModule module,
            FloatTensor query,
            FloatTensor key,
            FloatTensor value,
            AttentionMask mask,
            Map<String, Object> kwargs) {
        Map<String, Object> kw = kwargs == null ? Map.of() : kwargs;
        checkShapes(query, key, value);
        int B = query.dim(0), H = query.dim(1), Sq = query.dim(2), Skv = key.dim(2), Dv = value.dim(3);
        double dropout = AttentionKwargs.dropout(kw);
        if (dropout > 0) {
            throw new IllegalArgumentException(NAME + " on the CPU is inference-only: dropout " + dropout
                    + " is not supported;" + " put the model in eval mode or use eager for training-style dropout");
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
            causal = false; // the mask already says who sees whom
            window = 0;
        } else if (mask != null) {
            throw AttentionMask.unsupported(
                    NAME, mask, "the PaddingMask its formatter builds, a 4-D BooleanMask, or null");
        } else if (kw.get(AttentionKwargs.CU_SEQ_LENS_Q) != null || kw.get(AttentionKwargs.CU_SEQ_LENS_K) != null) {
            segs = fromCuSeqLens(kw, B, Sq, Skv);
        } else if (positionIds != null && isPacked(positionIds, B)) {
            segs = fromPositionIds(positionIds[0], Sq, Skv);
        } else {
            segs = Segments.dense(B, Sq, Skv);
        }
        float[] out = new float[B * Sq * H * Dv]; // (B, Sq, H, Dv), pad rows stay 0
        TiledAttention.tiled(
                query,
                key,
                value,
                Visibility.bottomRight(segs, dense, causal, window),
                new Logits(scaling, softcap, sinks),
                out,
                tilesVisited);
        return new AttentionOutput(new FloatTensor(out, B, Sq, H, Dv), null);
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
            throw new IllegalArgumentException(NAME + ": " + Sq + " queries but only " + Skv
                    + " keys with a padding mask;" + " the mask must cover the keys (past + new tokens)");
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
                q[b] = new int[] {0}; // decode: every row has its one query (cu_seqlens_q = arange)
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
            throw new IllegalArgumentException(
                    NAME + ": packed position_ids need one position per token and Sq == Skv" + " (got " + pos.length
                            + " positions, Sq=" + Sq + ", Skv=" + Skv + "); with a cache pass a padding mask");
        }
        int min = Integer.MAX_VALUE;
        for (int x : pos) min = Math.min(min, x);
        int n = 0;
        for (int x : pos) if (x == min) n++;
        int[] cu = new int[n + 1];
        for (int i = 0, s = 0; i < pos.length; i++) if (pos[i] == min) cu[s++] = i;
        cu[n] = pos.length; // tokens before the first start belong to no sequence
        return fromCu(cu, cu);
    }

    private static Segments fromCuSeqLens(Map<String, Object> kw, int B, int Sq, int Skv) {
        int[] cuq = AttentionKwargs.ints(kw, AttentionKwargs.CU_SEQ_LENS_Q),
                cuk = AttentionKwargs.ints(kw, AttentionKwargs.CU_SEQ_LENS_K);
        if (cuq == null || cuk == null) {
            throw new IllegalArgumentException(NAME + ": pass both cu_seq_lens_q and cu_seq_lens_k as int[] (cumulative"
                    + " sequence starts, first 0, last the token count)");
        }
        if (B != 1) {
            throw new IllegalArgumentException(
                    NAME + ": cu_seq_lens need the packed layout with batch 1, got batch " + B);
        }
        if (cuq.length != cuk.length || cuq.length < 2) {
            throw new IllegalArgumentException(NAME + ": cu_seq_lens_q (" + cuq.length + " entries) and cu_seq_lens_k ("
                    + cuk.length + ") must describe the same number (>= 1) of sequences");
        }
        checkCu(
                cuq,
                Sq,
                AttentionKwargs.CU_SEQ_LENS_Q,
                AttentionKwargs.intOrAlias(kw, AttentionKwargs.MAX_LENGTH_Q, AttentionKwargs.MAX_SEQLEN_Q));
        checkCu(
                cuk,
                Skv,
                AttentionKwargs.CU_SEQ_LENS_K,
                AttentionKwargs.intOrAlias(kw, AttentionKwargs.MAX_LENGTH_K, AttentionKwargs.MAX_SEQLEN_K));
        return fromCu(cuq, cuk);
    }

    private static void checkCu(int[] cu, int total, String name, Integer max) {
        if (cu[0] < 0 || cu[cu.length - 1] > total) {
            throw new IllegalArgumentException(
                    NAME + ": " + name + " " + Arrays.toString(cu) + " must lie within 0.." + total);
        }
        for (int i = 1; i < cu.length; i++) {
            int len = cu[i] - cu[i - 1];
            if (len < 0)
                throw new IllegalArgumentException(
                        NAME + ": " + name + " " + Arrays.toString(cu) + " must not decrease");
            if (max != null && len > max) {
                throw new IllegalArgumentException(
                        NAME + ": sequence " + (i - 1) + " has " + len + " tokens but the max" + " length passed is "
                                + max + "; pass max_length = the longest sequence");
            }
        }
    }

    private static Segments fromCu(int[] cuq, int[] cuk) {
        int n = cuq.length - 1;
        int[][] q = new int[n][], k = new int[n][];
        for (int s = 0; s < n; s++) {
            q[s] = TiledAttention.range(cuq[s], cuq[s + 1]);
            k[s] = TiledAttention.range(cuk[s], cuk[s + 1]);
        }
        return new Segments(new int[n], q, k);
    }

    // ---- argument checks ----

    static void checkShapes(FloatTensor query, FloatTensor key, FloatTensor value) {
        for (FloatTensor t : new FloatTensor[] {query, key, value}) {
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
