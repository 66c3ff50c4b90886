package attnspark.attention.flex;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.attention.AttentionMask;
import attnspark.attention.BlockMask;
import attnspark.attention.BooleanMask;
import attnspark.attention.MaskFormatter;
import attnspark.attention.MaskFunction;
import attnspark.attention.dispatch.Masks;
import org.junit.jupiter.api.Test;

/** The "flex_attention" mask formatter: HF flex_attention_mask over the create_* functions. */
class FlexMasksTest {
    /** Every entry of the flex BlockMask equals sdpa_mask's boolean (the fully materialised reference). */
    private static void assertSameAsSdpa(Masks.MaskInputs flexIn, AttentionMask flex, AttentionMask sdpa) {
        BlockMask bm = assertInstanceOf(BlockMask.class, flex);
        assertEquals(BlockMask.DEFAULT_BLOCK_SIZE, bm.blockSize());
        assertEquals(flexIn.batch(), bm.batch());
        assertEquals(flexIn.qLength(), bm.qLength());
        for (int b = 0; b < bm.batch(); b++) {
            for (int q = 0; q < bm.qLength(); q++) {
                for (int kv = 0; kv < bm.kvLength(); kv++) {
                    boolean want = sdpa == null ? kv <= q + flexIn.pastLength() : ((BooleanMask) sdpa).get(b, q, kv);
                    assertEquals(want, bm.allows(b, 0, q, kv), "b=" + b + " q=" + q + " kv=" + kv);
                }
            }
        }
    }

    @Test
    void causalSlidingChunkedWithPaddingAndCacheMatchSdpaMask() {
        int B = 2;
        for (int[] qp : new int[][] {{1, 0}, {10, 0}, {130, 0}, {1, 140}, {5, 300}, {129, 128}}) {
            int Sq = qp[0], past = qp[1], Skv = Sq + past;
            for (boolean padded : new boolean[] {false, true}) {
                boolean[][] pad = null;
                if (padded) {
                    pad = new boolean[B][Skv];
                    for (int s = 0; s < Skv; s++) {
                        pad[0][s] = true;
                        pad[1][s] = s >= Math.min(Skv - 1, 4);
                    }
                }
                Masks.MaskInputs f =
                        Masks.MaskInputs.of("flex_attention", B, Sq, pad).withPastLength(past);
                Masks.MaskInputs s = Masks.MaskInputs.of("sdpa", B, Sq, pad).withPastLength(past);
                assertSameAsSdpa(f, Masks.createCausalMask(f), Masks.createCausalMask(s));
                assertSameAsSdpa(
                        f, Masks.createSlidingWindowCausalMask(f, 7), Masks.createSlidingWindowCausalMask(s, 7));
                assertSameAsSdpa(f, Masks.createChunkedCausalMask(f, 3), Masks.createChunkedCausalMask(s, 3));
                AttentionMask bi = Masks.createBidirectionalMask(f);
                assertInstanceOf(BlockMask.class, bi); // flex never skips
            }
        }
    }

    @Test
    void shortPaddingMaskIsRightPaddedWithFalseAndOffsetsApply() {
        // a 2-D mask shorter than kvOffset + kvLength: the missing keys are padding
        boolean[][] pm = {{true, true, true}};
        MaskFormatter.MaskRequest r =
                new MaskFormatter.MaskRequest(1, 2, 5, 3, 1, MaskFunction.causal(), pm, true, false, null);
        BlockMask bm = FlexMasks.flexAttentionMask(r, 2);
        for (int q = 0; q < 2; q++) {
            for (int kv = 0; kv < 5; kv++) {
                boolean want = kv + 1 <= q + 3 && kv + 1 < 3;
                assertEquals(want, bm.allows(0, 0, q, kv), q + "," + kv);
            }
        }
        assertInstanceOf(BlockMask.class, FlexMasks.flexAttentionMask(r));
    }
}
