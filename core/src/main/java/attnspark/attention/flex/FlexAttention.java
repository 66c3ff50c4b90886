package attnspark.attention.flex;

import static attnspark.attention.AttentionCapability.*;

import attnspark.attention.AdditiveMask;
import attnspark.attention.Attention;
import attnspark.attention.AttentionCapability;
import attnspark.attention.AttentionFunction;
import attnspark.attention.AttentionKwargs;
import attnspark.attention.AttentionMask;
import attnspark.attention.AttentionModule;
import attnspark.attention.AttentionOutput;
import attnspark.attention.BlockMask;
import attnspark.kernels.Parallel;
import attnspark.tensor.FloatTensor;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * HF's {@code flex_attention_forward} over a block-sparse kernel modelled on
 * {@code torch.nn.attention.flex_attention}: registered as {@value #NAME}.
 *
 * <p><b>Inputs.</b> query (B, Hq, Sq, D), key (B, Hkv, Skv, D), value (B, Hkv, Skv, Dv), Hq a
 * multiple of Hkv; query head h reads kv head {@code h / (Hq/Hkv)} (torch's {@code enable_gqa},
 * no repeat). {@code mask} is
 * <ul>
 *   <li>a {@link BlockMask} (what the "flex_attention" mask formatter builds): only its non-empty
 *       blocks are visited, the mask mod is evaluated only inside PARTIAL blocks;</li>
 *   <li>an {@link AdditiveMask} (B, 1, Sq, &gt;=Skv): HF's {@code score_mask} path, an additive mask
 *       added in the score mod after softcap;</li>
 *   <li>null: no masking at all (flex ignores {@code is_causal}: causality lives in the BlockMask).</li>
 * </ul>
 * kwargs: {@code "scaling"} (Number; default {@code module.scaling()}), {@code "softcap"} (Number:
 * the score mod {@code softcap * tanh(s / softcap)}, applied first), {@code "score_mod"}
 * ({@link ScoreMod}, applied after softcap and the score mask), {@code "dropout"} (a Number &gt; 0
 * raises {@link IllegalArgumentException}, as HF raises ValueError), {@code "s_aux"} (attention
 * sinks: float[] or FloatTensor of Hq logits, HF's LSE renormalisation).
 *
 * <p><b>Output.</b> {@link AttentionOutput#output()} is (B, Sq, Hq, Dv).
 * <b>{@link AttentionOutput#weights()} holds the log-sum-exp (B, Hq, Sq)</b> of each query row's
 * final (masked, modded) scores, natural log, as HF's flex path returns with {@code return_lse}
 * (not attention weights). With sinks it is the LSE before the sink is added, as in HF.
 * A query row with no visible key gives zeros and LSE {@code -inf}, never NaN.
 *
 * <p><b>Kernel.</b> Work units are (b, h, q-block); each keeps a running max, sum and
 * accumulator per query row (online softmax) while visiting its partial then full kv blocks.
 * K is transposed once so the score and value loops are axpy loops the JIT vectorises.
 */
public final class FlexAttention implements AttentionFunction {
    public static final String NAME = "flex_attention";

    @Override
    public Set<AttentionCapability> capabilities() {
        return EnumSet.of(MASKED, PACKED, SLIDING_WINDOW, CHUNKED, SOFTCAP, SINKS);
    }

    /** (b, h, q-block, kv-block) tiles visited, summed over calls on this instance: empty blocks never count. */
    final LongAdder blocksVisited = new LongAdder();

    long blocksVisited() {
        return blocksVisited.sum();
    }

    @Override
    public AttentionOutput apply(
            AttentionModule module,
            FloatTensor query,
            FloatTensor key,
            FloatTensor value,
            AttentionMask mask,
            Map<String, Object> kwargs) {
        if (AttentionKwargs.dropout(kwargs) > 0) {
            throw new IllegalArgumentException(
                    "`flex_attention` does not support `dropout`. Please use it with inference"
                            + " only (`model.eval()`) or turn off the attention dropout in the respective config.");
        }
        Attention.checkShapes(query, key, value);
        int B = query.dim(0), H = query.dim(1), Sq = query.dim(2), D = query.dim(3);
        int Hkv = key.dim(1), Skv = key.dim(2), Dv = value.dim(3);
        int groups = H / Hkv;
        float scaling = AttentionKwargs.scaling(module, kwargs);
        ScoreMod scoreMod = scoreMod(kwargs, mask, B, Sq, Skv);
        BlockMask bm = blockMask(mask, B, H, Sq, Skv);
        float[] sinks = AttentionKwargs.sinks(kwargs, H);

        int bs = bm == null ? Math.max(1, Math.min(BlockMask.DEFAULT_BLOCK_SIZE, Skv)) : bm.blockSize();
        int nq = BlockMask.ceilDiv(Sq, bs), nkv = BlockMask.ceilDiv(Skv, bs);
        int[] allBlocks = new int[nkv];
        for (int i = 0; i < nkv; i++) allBlocks[i] = i;

        // K transposed per kv head: (B, Hkv, D, Skv)
        float[] kT = new float[B * Hkv * D * Skv];
        Parallel.forRange(B * Hkv, 1, (from, to) -> {
            for (int bh = from; bh < to; bh++) {
                int src = bh * Skv * D, dst = bh * D * Skv;
                for (int j = 0; j < Skv; j++)
                    for (int d = 0; d < D; d++) kT[dst + d * Skv + j] = key.data[src + j * D + d];
            }
        });

        float[] out = new float[B * Sq * H * Dv]; // (B, Sq, H, Dv)
        float[] lse = new float[B * H * Sq]; // (B, H, Sq)
        Parallel.forRange(B * H * nq, 1, (from, to) -> {
            float[] scores = new float[bs];
            float[] m = new float[bs];
            float[] l = new float[bs];
            float[] acc = new float[bs * Dv];
            long visited = 0;
            for (int unit = from; unit < to; unit++) {
                int qb = unit % nq, bh = unit / nq, h = bh % H, b = bh / H;
                int q0 = qb * bs, q1 = Math.min(Sq, q0 + bs), rows = q1 - q0;
                int kvBase = b * Hkv + h / groups;
                Arrays.fill(m, 0, rows, Float.NEGATIVE_INFINITY);
                Arrays.fill(l, 0, rows, 0f);
                Arrays.fill(acc, 0, rows * Dv, 0f);
                int[] partial, full;
                if (bm == null) {
                    partial = new int[0];
                    full = allBlocks;
                } else {
                    int mb = bm.batch() == 1 ? 0 : b, mh = bm.heads() == 1 ? 0 : h;
                    partial = bm.partialRef(mb, mh, qb);
                    full = bm.fullRef(mb, mh, qb);
                }
                for (int pass = 0; pass < 2; pass++) { // torch: partial blocks, then full blocks
                    int[] blocks = pass == 0 ? partial : full;
                    boolean checkMask = pass == 0;
                    for (int kb : blocks) {
                        visited++;
                        int k0 = kb * bs, k1 = Math.min(Skv, k0 + bs), cols = k1 - k0;
                        for (int r = 0; r < rows; r++) {
                            int qi = q0 + r;
                            int qOff = ((b * H + h) * Sq + qi) * D;
                            Arrays.fill(scores, 0, cols, 0f);
                            for (int d = 0; d < D; d++) {
                                float qd = query.data[qOff + d];
                                int row = (kvBase * D + d) * Skv + k0;
                                for (int j = 0; j < cols; j++) scores[j] += qd * kT[row + j];
                            }
                            float blockMax = Float.NEGATIVE_INFINITY;
                            for (int j = 0; j < cols; j++) {
                                int kj = k0 + j;
                                float s;
                                if (checkMask && !bm.maskMod().test(b, h, qi, kj)) {
                                    s = Float.NEGATIVE_INFINITY;
                                } else {
                                    s = scores[j] * scaling;
                                    if (scoreMod != null) s = scoreMod.apply(s, b, h, qi, kj);
                                }
                                scores[j] = s;
                                if (s > blockMax) blockMax = s;
                            }
                            if (blockMax == Float.NEGATIVE_INFINITY) continue; // nothing visible here
                            float mOld = m[r], mNew = Math.max(mOld, blockMax);
                            float corr = mOld == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(mOld - mNew);
                            int aOff = r * Dv;
                            if (corr != 1f) for (int d = 0; d < Dv; d++) acc[aOff + d] *= corr;
                            float sum = 0f;
                            for (int j = 0; j < cols; j++) {
                                if (scores[j] == Float.NEGATIVE_INFINITY) continue;
                                float p = (float) Math.exp(scores[j] - mNew);
                                sum += p;
                                int vOff = (kvBase * Skv + k0 + j) * Dv;
                                for (int d = 0; d < Dv; d++) acc[aOff + d] += p * value.data[vOff + d];
                            }
                            l[r] = l[r] * corr + sum;
                            m[r] = mNew;
                        }
                    }
                }
                for (int r = 0; r < rows; r++) {
                    int qi = q0 + r;
                    int oOff = ((b * Sq + qi) * H + h) * Dv;
                    if (l[r] == 0f) { // fully masked row: zeros, LSE -inf
                        lse[(b * H + h) * Sq + qi] = Float.NEGATIVE_INFINITY;
                        continue;
                    }
                    float rowLse = m[r] + (float) Math.log(l[r]);
                    lse[(b * H + h) * Sq + qi] = rowLse;
                    float inv = 1f / l[r];
                    if (sinks != null) {
                        // HF: combined = logsumexp([lse, sink]); out *= exp(lse - combined)
                        double hi = Math.max(rowLse, sinks[h]);
                        double combined = hi + Math.log(Math.exp(rowLse - hi) + Math.exp(sinks[h] - hi));
                        inv *= (float) Math.exp(rowLse - combined);
                    }
                    for (int d = 0; d < Dv; d++) out[oOff + d] = acc[r * Dv + d] * inv;
                }
            }
            blocksVisited.add(visited);
        });
        return new AttentionOutput(new FloatTensor(out, B, Sq, H, Dv), new FloatTensor(lse, B, H, Sq));
    }

    /** softcap first, then HF's additive score mask, then the user's score_mod. Null when none applies. */
    private static ScoreMod scoreMod(Map<String, Object> kwargs, AttentionMask mask, int B, int Sq, int Skv) {
        ScoreMod mod = null;
        float softcap = AttentionKwargs.softcap(kwargs);
        if (softcap > 0) mod = ScoreMod.softcap(softcap);
        if (mask instanceof AdditiveMask additive) {
            FloatTensor t = additive.scores();
            if (t.rank() != 4 || (t.dim(0) != B && t.dim(0) != 1) || t.dim(2) != Sq || t.dim(3) < Skv) {
                throw new IllegalArgumentException(
                        "score mask must be (B, 1, Sq, >=Skv) = (" + B + ", 1, " + Sq + ", >=" + Skv + "), got " + t);
            }
            int width = t.dim(3), tb = t.dim(0);
            ScoreMod add = (s, b, h, q, kv) -> s + t.data[((tb == 1 ? 0 : b) * Sq + q) * width + kv];
            mod = mod == null ? add : mod.andThen(add);
        }
        ScoreMod user = AttentionKwargs.get(kwargs, AttentionKwargs.SCORE_MOD, ScoreMod.class);
        if (user != null) mod = mod == null ? user : mod.andThen(user);
        return mod;
    }

    private static BlockMask blockMask(AttentionMask mask, int B, int H, int Sq, int Skv) {
        if (mask == null || mask instanceof AdditiveMask) return null;
        if (!(mask instanceof BlockMask bm)) {
            throw AttentionMask.unsupported(NAME, mask, "a BlockMask, an AdditiveMask (a score mask), or null");
        }
        if (bm.qLength() != Sq || bm.kvLength() != Skv) {
            throw new IllegalArgumentException("block_mask was created for q_len=" + bm.qLength() + ", kv_len="
                    + bm.kvLength() + " but got q_len=" + Sq + " and kv_len=" + Skv);
        }
        if (bm.batch() != 1 && bm.batch() != B) {
            throw new IllegalArgumentException("block_mask batch " + bm.batch() + " does not broadcast to batch " + B);
        }
        if (bm.heads() != 1 && bm.heads() != H) {
            throw new IllegalArgumentException(
                    "block_mask heads " + bm.heads() + " do not broadcast to " + H + " query heads");
        }
        return bm;
    }
}
