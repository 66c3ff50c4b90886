package attnspark.attention.flex;

import attnspark.attention.BlockMask;
import attnspark.attention.MaskFormatter;
import attnspark.attention.MaskFunction;
import java.util.Arrays;

/**
 * HF's {@code flex_attention_mask}, the formatter registered as "flex_attention":
 * <ol>
 *   <li>a 2-D padding mask is right-padded with false to {@code kvOffset + kvLength}
 *       ({@code prepare_padding_mask}) and and-ed into the mask function (skipped when it is
 *       all true, as newer HF does: the result is the same);</li>
 *   <li>the q/kv offsets are folded in ({@code add_offsets_to_mask_function});</li>
 *   <li>{@code create_block_mask(mask_mod, B=batch, H=None, Q_LEN=qLength, KV_LEN=kvLength)} with
 *       the default block size 128.</li>
 * </ol>
 * Always returns a {@link BlockMask}: flex has no causal/bidirectional skip, so
 * {@code allowIsCausalSkip}/{@code allowIsBidirectionalSkip}/{@code localSize} are ignored (as in
 * HF). The torch &lt; 2.6 padding of the 2-D mask to a multiple of 128 is not reproduced: it only
 * worked around torch bugs and changes no attended entry.
 */
public final class FlexMasks {
    private FlexMasks() {}

    public static BlockMask flexAttentionMask(MaskFormatter.MaskRequest r) {
        return flexAttentionMask(r, BlockMask.DEFAULT_BLOCK_SIZE);
    }

    /** Same, with another block size (HF always uses 128). */
    public static BlockMask flexAttentionMask(MaskFormatter.MaskRequest r, int blockSize) {
        MaskFunction f = r.maskFunction();
        boolean[][] pm = r.paddingMask();
        if (pm != null) {
            int need = r.kvLength() + r.kvOffset();
            boolean allTrue = true;
            for (boolean[] row : pm) {
                if (row.length < need) allTrue = false;
                for (int i = 0; i < row.length && allTrue; i++) allTrue = row[i];
            }
            if (!allTrue) {
                boolean[][] padded = new boolean[pm.length][];
                for (int b = 0; b < pm.length; b++) {
                    padded[b] = pm[b].length >= need ? pm[b] : Arrays.copyOf(pm[b], need);
                }
                f = f.and(MaskFunction.padding(padded));
            }
        }
        f = MaskFunction.withOffsets(f, r.qOffset(), r.kvOffset());
        return BlockMask.create(f, r.batch(), null, r.qLength(), r.kvLength(), blockSize);
    }
}
