package attnspark.attention;

import attnspark.attention.TiledAttention.Logits;
import attnspark.attention.TiledAttention.Segments;
import attnspark.attention.TiledAttention.Visibility;
import attnspark.kernels.FloatSpan;
import attnspark.kernels.Kernels;
import attnspark.kernels.Parallel;
import attnspark.kernels.VectorPackedAttention;
import attnspark.tensor.FloatTensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * HF's {@code sdpa_attention_forward}: {@code is_causal = Sq > 1 && mask == null && (kwarg
 * is_causal, else module.isCausal())}, <b>top-left</b> aligned like torch (query i sees keys
 * {@code <= i}; HF only leaves causality to SDPA when Sq == 1 or Sq == Skv). A query row that may
 * attend to nothing gives zeros, not NaN. Like torch, three kernels sit behind it
 * ({@link SdpaKernel}); the first one allowed on this thread and eligible runs:
 * <ul>
 *   <li>FLASH_ATTENTION: the tiled kernel flash_attention_2 also runs ({@link TiledAttention}; needs mask == null);</li>
 *   <li>EFFICIENT_ATTENTION: the fused per-row kernel below (GQA by index, heads in parallel,
 *       K transposed per head so both products are axpy loops the JIT vectorises);</li>
 *   <li>MATH: eager's materialised math over an explicit mask.</li>
 * </ul>
 * softcap and s_aux (sinks) are not SDPA arguments: they raise, naming the backends that have them.
 */
public final class SdpaAttention implements AttentionFunction {
    public static final String NAME = "sdpa";

    @Override
    public AttentionOutput apply(
            AttentionModule module,
            FloatTensor query,
            FloatTensor key,
            FloatTensor value,
            AttentionMask mask,
            Map<String, Object> kwargs) {
        for (String unsupported : new String[] {AttentionKwargs.SOFTCAP, AttentionKwargs.S_AUX}) {
            if (kwargs != null && kwargs.get(unsupported) != null) {
                throw new IllegalArgumentException("sdpa does not support `" + unsupported + "` (torch's"
                        + " scaled_dot_product_attention has no such argument); use attn_implementation eager,"
                        + " flex_attention or flash_attention_2, which do");
            }
        }
        Attention.checkShapes(query, key, value);
        int Sq = query.dim(2);
        float scaling = AttentionKwargs.scaling(module, kwargs);
        boolean causal = Sq > 1 && mask == null && AttentionKwargs.isCausal(module, kwargs);
        List<SdpaKernel> allowed = SdpaKernel.allowed();
        StringBuilder why = new StringBuilder();
        for (SdpaKernel k : allowed) {
            String reject = rejects(k, mask);
            if (reject == null) {
                return switch (k) {
                    case FLASH_ATTENTION -> flash(query, key, value, causal, scaling);
                    case EFFICIENT_ATTENTION -> efficient(query, key, value, mask, causal, scaling);
                    case MATH -> math(query, key, value, mask, causal, scaling);
                };
            }
            why.append("\n  ").append(k).append(": ").append(reject);
        }
        throw new IllegalStateException("No available kernel for sdpa. Allowed kernels " + allowed
                + " were all rejected:" + why
                + "\nAllow EFFICIENT_ATTENTION or MATH (SdpaKernel.select(...)), which take"
                + " masks, or call without a mask.");
    }

    /** Why kernel k cannot run this call, or null when it can. */
    private static String rejects(SdpaKernel k, AttentionMask mask) {
        if (k == SdpaKernel.FLASH_ATTENTION && mask != null) {
            return "needs attn_mask == null, got a " + mask.describe();
        }
        return null;
    }

    private static AttentionOutput flash(
            FloatTensor query, FloatTensor key, FloatTensor value, boolean causal, float scaling) {
        int B = query.dim(0), H = query.dim(1), Sq = query.dim(2), Skv = key.dim(2), Dv = value.dim(3);
        float[] out = new float[B * Sq * H * Dv]; // (B, Sq, H, Dv)
        if (Kernels.vectorApi()) {
            // register-tiled Vector API kernel; a causal tile scores only the keys its rows see
            VectorPackedAttention.Sequence[] seqs = new VectorPackedAttention.Sequence[B];
            for (int b = 0; b < B; b++) seqs[b] = new VectorPackedAttention.Sequence(b, 0, Sq, 0, Skv);
            VectorPackedAttention.headsFirst(query, key, value, seqs, causal, scaling, out);
            return new AttentionOutput(new FloatTensor(out, B, Sq, H, Dv), null);
        }
        TiledAttention.tiled(
                query,
                key,
                value,
                Visibility.topLeft(Segments.dense(B, Sq, Skv), causal),
                Logits.scaled(scaling),
                out,
                null);
        return new AttentionOutput(new FloatTensor(out, B, Sq, H, Dv), null);
    }

    /** torch's math kernel: materialise repeat_kv and every score (eager), then zero rows that saw nothing. */
    private static AttentionOutput math(
            FloatTensor query, FloatTensor key, FloatTensor value, AttentionMask mask, boolean causal, float scaling) {
        int B = query.dim(0), H = query.dim(1), Sq = query.dim(2), Skv = key.dim(2), Dv = value.dim(3);
        boolean[] see = new boolean[B * Sq * Skv]; // (B, Sq, Skv) the same rule as the other kernels
        AdditiveMask add = mask instanceof BooleanMask ? null : Attention.additiveMask(NAME, mask);
        for (int b = 0; b < B; b++)
            for (int i = 0; i < Sq; i++)
                for (int j = 0; j < Skv; j++) {
                    boolean s = !causal || j <= i;
                    if (mask instanceof BooleanMask m) s &= m.get(b, i, j);
                    if (add != null) s &= add.get(b, i, j) != Float.NEGATIVE_INFINITY;
                    see[(b * Sq + i) * Skv + j] = s;
                }
        AdditiveMask eagerMask;
        if (add != null && !causal) {
            eagerMask = add;
        } else {
            float[] m = new float[B * Sq * Skv];
            for (int x = 0; x < m.length; x++) {
                int b = x / (Sq * Skv), ij = x % (Sq * Skv);
                m[x] = !see[x] ? MaskFormats.MIN_VALUE : add == null ? 0f : add.get(b, ij / Skv, ij % Skv);
            }
            eagerMask = new AdditiveMask(new FloatTensor(m, B, 1, Sq, Skv));
        }
        AttentionModule plain = AttentionModule.of(false, 0, H / key.dim(1), scaling);
        float[] out = new EagerAttention()
                .apply(plain, query, key, value, eagerMask, Map.of())
                .output()
                .data;
        for (int b = 0; b < B; b++)
            for (int i = 0; i < Sq; i++) {
                boolean any = false;
                for (int j = 0; j < Skv && !any; j++) any = see[(b * Sq + i) * Skv + j];
                if (!any) Arrays.fill(out, (b * Sq + i) * H * Dv, (b * Sq + i + 1) * H * Dv, 0f);
            }
        return new AttentionOutput(new FloatTensor(out, B, Sq, H, Dv), null);
    }

    /**
     * True when {@code fn}, with the mask formatter {@code formatter} and these kwargs, computes
     * plain bidirectional softmax attention over each sequence's own tokens: the stock sdpa
     * function, the stock sdpa formatter (a padding mask only), no kwargs that change the math,
     * and the EFFICIENT_ATTENTION kernel allowed on this thread. A model may then call
     * {@link #packedBidirectional} instead of padding to (B, H, Smax, D).
     */
    public static boolean packedEquivalent(AttentionFunction fn, MaskFormatter formatter, Map<String, Object> kwargs) {
        return fn instanceof SdpaAttention
                && (kwargs == null || kwargs.isEmpty())
                && formatter == MaskFormats.SDPA
                && SdpaKernel.allowed().contains(SdpaKernel.EFFICIENT_ATTENTION);
    }

    /**
     * EFFICIENT_ATTENTION on packed variable-length sequences (flash-attn's varlen layout): no
     * padded copy, no mask. {@code qkv} (T, 3·H·Dh) holds each token's q | k | v as a fused
     * projection writes them; sequence b is rows {@code cuSeqlens[b] .. cuSeqlens[b+1]-1}.
     * Writes {@code out} (T, H·Dh). Both from their span's offset (an activation arena's rows on
     * 64-byte lines). One work item per (sequence, head), and each sequence is
     * computed from its own rows only, in a fixed order: the bits of a sequence do not depend
     * on the other sequences of the batch.
     */
    public static void packedBidirectional(
            FloatSpan qkvSpan, int[] cuSeqlens, int sequences, int heads, int headDim, float scaling, FloatSpan out) {
        if (Kernels.vectorApi() && scaling > 0) {
            // register-tiled micro-kernels: several query rows per key load (see VectorPackedAttention,
            // which takes the max of unscaled scores: the same key only for a positive scale)
            VectorPackedAttention.bidirectional(qkvSpan, cuSeqlens, sequences, heads, headDim, scaling, out);
            return;
        }
        float[] qkv = qkvSpan.array();
        int qkvFirst = qkvSpan.offset(), outFirst = out.offset();
        int D = headDim, width = heads * D, rowStride = 3 * width;
        int longest = 0;
        for (int b = 0; b < sequences; b++) longest = Math.max(longest, cuSeqlens[b + 1] - cuSeqlens[b]);
        int maxLen = longest;
        Parallel.forRange(sequences * heads, 1, (from, to) -> {
            float[] kT = new float[D * maxLen]; // (D, L) keys of one (sequence, head)
            float[] v = new float[maxLen * D]; // (L, D) values of one (sequence, head)
            float[] bias = new float[maxLen]; // 0 for the L keys
            float[] scores = new float[maxLen];
            float[] acc = new float[D];
            for (int item = from; item < to; item++) {
                int b = item / heads, h = item % heads;
                int start = cuSeqlens[b], n = cuSeqlens[b + 1] - start;
                int kCol = width + h * D, vCol = 2 * width + h * D;
                for (int j = 0; j < n; j++) {
                    int row = qkvFirst + (start + j) * rowStride;
                    for (int d = 0; d < D; d++) kT[d * n + j] = qkv[row + kCol + d];
                    System.arraycopy(qkv, row + vCol, v, j * D, D);
                }
                HeadOperands head = new HeadOperands(qkv, D, scaling, kT, n, bias, v, 0, D, scores, acc, out.array());
                for (int i = 0; i < n; i++) {
                    int qOff = qkvFirst + (start + i) * rowStride + h * D;
                    int oOff = outFirst + (start + i) * width + h * D;
                    AttentionRows.row(head, qOff, n, oOff);
                }
            }
        });
    }

    /** The fused row kernel: one pass per query row ({@link AttentionRows}), GQA by index, heads in parallel. */
    private static AttentionOutput efficient(
            FloatTensor query, FloatTensor key, FloatTensor value, AttentionMask mask, boolean causal, float scaling) {
        int B = query.dim(0), H = query.dim(1), Sq = query.dim(2), D = query.dim(3);
        int Hkv = key.dim(1), Skv = key.dim(2), Dv = value.dim(3);
        int groups = H / Hkv;
        BooleanMask boolMask = mask instanceof BooleanMask m ? m : null;
        AdditiveMask additive = boolMask == null ? Attention.additiveMask(NAME, mask) : null;
        FloatTensor addMask = additive == null ? null : additive.scores(); // read by index in the row loop
        boolean vector = Kernels.vectorApi(); // one choice per call: it fixes the stride
        int stride = vector ? VectorAttentionRows.padded(Skv) : Skv;
        float[] out = new float[B * Sq * H * Dv]; // (B, Sq, H, Dv)
        Parallel.forRange(B * H, 1, (from, to) -> {
            float[] kT = new float[D * stride]; // (D, stride) of one kv head
            float[] bias = new float[stride]; // (stride): mask of one query row
            float[] scores = new float[stride];
            float[] acc = new float[Dv];
            for (int bh = from; bh < to; bh++) {
                int b = bh / H, h = bh % H;
                int kvBase = (b * Hkv + h / groups) * Skv;
                for (int j = 0; j < Skv; j++)
                    for (int d = 0; d < D; d++) kT[d * stride + j] = key.data[(kvBase + j) * D + d];
                HeadOperands head = new HeadOperands(
                        query.data, D, scaling, kT, stride, bias, value.data, kvBase, Dv, scores, acc, out);
                for (int i = 0; i < Sq; i++) {
                    int end = causal ? Math.min(i + 1, Skv) : Skv;
                    int mOff = addMask == null ? 0 : (b * Sq + i) * addMask.dim(3);
                    for (int j = 0; j < stride; j++) {
                        boolean visible = j < end && (boolMask == null || boolMask.get(b, i, j));
                        bias[j] = !visible ? Float.NEGATIVE_INFINITY : addMask == null ? 0f : addMask.data[mOff + j];
                    }
                    int qOff = ((b * H + h) * Sq + i) * D, oOff = ((b * Sq + i) * H + h) * Dv;
                    if (vector) VectorAttentionRows.row(head, qOff, end, oOff);
                    else AttentionRows.row(head, qOff, end, oOff);
                }
            }
        });
        return new AttentionOutput(new FloatTensor(out, B, Sq, H, Dv), null);
    }
}
