package attnspark.attention;

import static attnspark.attention.BlockMask.BlockType.EMPTY;
import static attnspark.attention.BlockMask.BlockType.FULL;
import static attnspark.attention.BlockMask.BlockType.PARTIAL;
import static org.junit.jupiter.api.Assertions.*;

import attnspark.attention.dispatch.Masks;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BlockMaskTest {
    /** HF tests/utils/test_masking_utils.py EXPECTED_PACKED_MASK, row by row ('T' = attend). */
    private static final String[][] EXPECTED_PACKED_MASK = {
        {
            "T.........",
            "TT........",
            "TTT.......",
            "TTTT......",
            "....T.....",
            "....TT....",
            "......T...",
            "......TT..",
            "......TTT.",
            "......TTTT"
        },
        {
            "T.........",
            "TT........",
            "TTT.......",
            "TTTT......",
            "TTTTT.....",
            "TTTTTT....",
            "......T...",
            "......TT..",
            "......TTT.",
            "......TTTT"
        }
    };

    private static boolean[][][] expectedPacked() {
        boolean[][][] m = new boolean[2][10][10];
        for (int b = 0; b < 2; b++) {
            for (int q = 0; q < 10; q++)
                for (int kv = 0; kv < 10; kv++) m[b][q][kv] = EXPECTED_PACKED_MASK[b][q].charAt(kv) == 'T';
        }
        return m;
    }

    private static final int[][] PACKED_POSITION_IDS = {{0, 1, 2, 3, 0, 1, 0, 1, 2, 3}, {0, 1, 2, 3, 4, 5, 0, 1, 2, 3}};

    @Test
    void causal300WithBlock128() {
        BlockMask bm = BlockMask.create(MaskFunction.causal(), 1, null, 300, 300, 128);
        assertEquals(3, bm.numQBlocks());
        assertEquals(3, bm.numKvBlocks());
        BlockMask.BlockType[][] want = {{PARTIAL, EMPTY, EMPTY}, {FULL, PARTIAL, EMPTY}, {FULL, FULL, PARTIAL}};
        for (int qb = 0; qb < 3; qb++)
            for (int kb = 0; kb < 3; kb++) assertEquals(want[qb][kb], bm.blockType(0, 0, qb, kb), qb + "," + kb);
        assertArrayEquals(new int[] {0}, bm.kvIndices(0, 0, 0));
        assertArrayEquals(new int[] {}, bm.fullKvIndices(0, 0, 0));
        assertArrayEquals(new int[] {1}, bm.kvIndices(0, 0, 1));
        assertArrayEquals(new int[] {0}, bm.fullKvIndices(0, 0, 1));
        assertArrayEquals(new int[] {2}, bm.kvIndices(0, 0, 2));
        assertArrayEquals(new int[] {0, 1}, bm.fullKvIndices(0, 0, 2));
        assertEquals(1, bm.kvNumBlocks(0, 0, 2));
        assertEquals(2, bm.fullKvNumBlocks(0, 0, 2));
        assertEquals(100.0 * 3 / 9, bm.sparsity(), 1e-9);
        assertEquals("(0, 0)\n░░    \n██░░  \n████░░\n", bm.toString());
    }

    @Test
    void lengthsThatAreNotMultiplesOfTheBlockSize() {
        // 129 = one block of 128 and one of 1: the edge blocks are classified over their in-range entries only
        BlockMask bm = BlockMask.create(MaskFunction.causal(), 1, null, 129, 129, 128);
        assertEquals(2, bm.numQBlocks());
        assertEquals(PARTIAL, bm.blockType(0, 0, 0, 0));
        assertEquals(EMPTY, bm.blockType(0, 0, 0, 1));
        assertEquals(FULL, bm.blockType(0, 0, 1, 0));
        assertEquals(FULL, bm.blockType(0, 0, 1, 1));
        // length 1, and q != kv
        BlockMask one = BlockMask.create(MaskFunction.causal(), 1, null, 1, 1, 128);
        assertEquals(FULL, one.blockType(0, 0, 0, 0));
        BlockMask decode =
                BlockMask.create(MaskFunction.withOffsets(MaskFunction.causal(), 299, 0), 1, null, 1, 300, 128);
        assertArrayEquals(new int[] {0, 1, 2}, decode.fullKvIndices(0, 0, 0));
        // allows() is the mask mod everywhere, for many shapes and block sizes
        Random r = new Random(3);
        for (int S : new int[] {1, 7, 127, 128, 129, 300}) {
            for (int bs : new int[] {16, 128, 5}) {
                int past = r.nextInt(20);
                MaskFunction f = MaskFunction.withOffsets(MaskFunction.slidingWindowCausal(13), past, 0);
                BlockMask m = BlockMask.create(f, 1, null, S, S + past, bs);
                for (int q = 0; q < S; q++) {
                    for (int kv = 0; kv < S + past; kv++)
                        assertEquals(f.test(0, 0, q, kv), m.allows(0, 0, q, kv), S + "/" + bs);
                }
            }
        }
    }

    @Test
    void packedSequenceMaskEqualsOneBuiltFromTheBooleanMask() {
        int[][] seq = Masks.findPackedSequenceIndices(PACKED_POSITION_IDS, 2);
        assertArrayEquals(new int[][] {{0, 0, 0, 0, 1, 1, 2, 2, 2, 2}, {0, 0, 0, 0, 0, 0, 1, 1, 1, 1}}, seq);
        MaskFunction packed = MaskFunction.causal().and(MaskFunction.packedSequence(seq));
        boolean[][][] dense = expectedPacked();
        for (int bs : new int[] {128, 4, 2, 3}) {
            BlockMask fromPositions = BlockMask.create(packed, 2, null, 10, 10, bs);
            BlockMask fromBool = BlockMask.create((b, h, q, kv) -> dense[b][q][kv], 2, null, 10, 10, bs);
            assertEquals(fromBool.toString(), fromPositions.toString(), "block " + bs);
            assertEquals(fromBool, fromPositions, "block " + bs);
            assertEquals(fromBool.hashCode(), fromPositions.hashCode());
            assertEquals(fromBool, BlockMask.fromDense(dense, bs));
        }
        // HF's test: create_causal_mask(flex_attention, position_ids) vs create_block_mask(EXPECTED_PACKED_MASK[b, h,
        // q, kv])
        AttentionMask viaMasks = Masks.createCausalMask(
                Masks.MaskInputs.of("flex_attention", 2, 10, null).withPositionIds(PACKED_POSITION_IDS));
        BlockMask expected = BlockMask.create((b, h, q, kv) -> dense[b][q][kv], 2, null, 10, 10);
        assertInstanceOf(BlockMask.class, viaMasks);
        assertEquals(expected.toString(), viaMasks.toString());
        assertEquals(expected, viaMasks);
        assertEquals("(0, 0)\n░░\n\n(1, 0)\n░░\n", expected.toString());
        // the same via sdpa_mask's boolean output
        AttentionMask sdpa =
                Masks.createCausalMask(Masks.MaskInputs.of("sdpa", 2, 10, null).withPositionIds(PACKED_POSITION_IDS));
        assertEquals(expected, BlockMask.fromBooleanMask((BooleanMask) sdpa, 128));
        // block 2: the sequence boundaries show
        BlockMask small = BlockMask.create(packed, 2, null, 10, 10, 2);
        assertEquals("""
                (0, 0)
                ░░        \s
                ██░░      \s
                    ░░    \s
                      ░░  \s
                      ██░░\s

                (1, 0)
                ░░        \s
                ██░░      \s
                ████░░    \s
                      ░░  \s
                      ██░░\s
                """.replace("\s\n", "\n"), small.toString());
    }

    @Test
    void equalityDistinguishesClassificationAndGeometry() {
        BlockMask causal = BlockMask.create(MaskFunction.causal(), 1, null, 300, 300, 16);
        assertEquals(causal, BlockMask.create((b, h, q, kv) -> q - kv >= 0, 1, null, 300, 300, 16));
        assertNotEquals(causal, BlockMask.create(MaskFunction.slidingWindowCausal(100), 1, null, 300, 300, 16));
        assertNotEquals(causal, BlockMask.create(MaskFunction.causal(), 1, null, 300, 300, 32));
        assertNotEquals(causal, BlockMask.create(MaskFunction.causal(), 1, null, 300, 301, 16));
        assertNotEquals(causal, BlockMask.create(MaskFunction.causal(), 2, null, 300, 300, 16));
        // same blocks, different elements inside a partial block: equal (as torch's to_string parity)
        assertEquals(
                BlockMask.create(MaskFunction.causal(), 1, null, 8, 8, 8),
                BlockMask.create(MaskFunction.slidingWindowCausal(3), 1, null, 8, 8, 8));
    }

    @Test
    void perHeadMasksAndPrintingLimits() {
        BlockMask bm = BlockMask.create((b, h, q, kv) -> h == 0 ? kv <= q : q == kv, 1, 2, 4, 4, 2);
        assertFalse(bm.headsBroadcast());
        assertEquals(2, bm.heads());
        assertEquals(FULL, bm.blockType(0, 0, 1, 0));
        assertEquals(EMPTY, bm.blockType(0, 1, 1, 0));
        assertEquals("(0, 0)\n░░  \n██░░\n\n(0, 1)\n░░  \n  ░░\n", bm.toString());
        BlockMask many = BlockMask.create(MaskFunction.causal(), 3, 2, 4, 4, 2);
        assertTrue(many.toString().endsWith("...\nTo print out more, set BlockMask.toString(gridSize, limit=N)"));
        // compressed grid: 19 blocks of 16 over 300 tokens at most 20 cells; 40 blocks -> 20 cells of 2
        BlockMask big = BlockMask.create(MaskFunction.causal(), 1, null, 640, 640, 16);
        String[] lines = big.toString().split("\n");
        assertEquals(21, lines.length);
        assertEquals("░░" + "  ".repeat(19), lines[1]);
        assertEquals("██░░" + "  ".repeat(18), lines[2]);
        assertEquals(41, big.toString(-1, 4).split("\n").length);
        assertThrows(IllegalArgumentException.class, () -> BlockMask.create(MaskFunction.causal(), 0, null, 4, 4, 2));
        assertThrows(IllegalArgumentException.class, () -> BlockMask.create(MaskFunction.causal(), 1, null, 4, 4, 0));
        assertThrows(IllegalArgumentException.class, () -> BlockMask.create(null, 1, null, 4, 4, 2));
    }
}
