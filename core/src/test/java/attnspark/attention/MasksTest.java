package attnspark.attention;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.attention.dispatch.Masks;
import attnspark.tensor.FloatTensor;
import org.junit.jupiter.api.Test;

/** Golden matrices from HF's masking_utils docstrings and tests (sdpa_mask's docstring matrices and tests/utils/test_masking_utils.py). */
class MasksTest {
    private static boolean[][] rows(BooleanMask m, int b) {
        boolean[][] r = new boolean[m.qLength()][m.kvLength()];
        for (int q = 0; q < m.qLength(); q++) for (int kv = 0; kv < m.kvLength(); kv++) r[q][kv] = m.get(b, q, kv);
        return r;
    }

    private static boolean[] bits(String s) {
        boolean[] r = new boolean[s.length()];
        for (int i = 0; i < s.length(); i++) r[i] = s.charAt(i) == '1';
        return r;
    }

    private static BooleanMask materialise(MaskFunction f, int b, int q, int kv, boolean[][] pad) {
        return (BooleanMask)
                MaskFormats.sdpaMask(new MaskFormatter.MaskRequest(b, q, kv, 0, 0, f, pad, false, false, null));
    }

    @Test
    void causalSlidingAndChunkedDocstringMatrices() {
        boolean[][] causal = rows(materialise(MaskFunction.causal(), 1, 5, 5, null), 0);
        for (int q = 0; q < 5; q++) for (int kv = 0; kv < 5; kv++) assertEquals(kv <= q, causal[q][kv]);
        boolean[][] sliding = rows(materialise(MaskFunction.slidingWindowCausal(3), 1, 5, 5, null), 0);
        assertArrayEquals(bits("01110"), sliding[3]);
        assertArrayEquals(bits("00111"), sliding[4]);
        boolean[][] chunk = rows(materialise(MaskFunction.chunkedCausal(3, null), 1, 5, 5, null), 0);
        assertArrayEquals(bits("00010"), chunk[3]);
        assertArrayEquals(bits("00011"), chunk[4]);
    }

    @Test
    void packedSequencesFromPositionIds() {
        int[][] pos = {{0, 1, 2, 3, 0, 1, 0, 1, 2, 3}, {0, 1, 2, 3, 4, 5, 0, 1, 2, 3}};
        int[][] ids = Masks.findPackedSequenceIndices(pos, 2);
        assertArrayEquals(new int[] {0, 0, 0, 0, 1, 1, 2, 2, 2, 2}, ids[0]);
        assertArrayEquals(new int[] {0, 0, 0, 0, 0, 0, 1, 1, 1, 1}, ids[1]);
        BooleanMask m = (BooleanMask)
                Masks.createCausalMask(Masks.MaskInputs.of("sdpa", 2, 10, null).withPositionIds(pos));
        // block-diagonal causal blocks 4|2|4 and 6|4
        int[][] blocks = {{0, 0, 0, 0, 1, 1, 2, 2, 2, 2}, {0, 0, 0, 0, 0, 0, 1, 1, 1, 1}};
        for (int b = 0; b < 2; b++)
            for (int q = 0; q < 10; q++)
                for (int kv = 0; kv < 10; kv++)
                    assertEquals(
                            kv <= q && blocks[b][q] == blocks[b][kv], m.get(b, q, kv), "b" + b + " q" + q + " kv" + kv);
        // unpacked positions: no packing, sdpa uses its own causal path
        int[][] plain = {{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}};
        assertNull(Masks.findPackedSequenceIndices(plain, 1));
        assertNull(
                Masks.createCausalMask(Masks.MaskInputs.of("sdpa", 1, 10, null).withPositionIds(plain)));
    }

    @Test
    void chunkedWithLeftPaddingStartsChunksAtFirstRealToken() {
        // chunk 3, 4 left pads, L = 8 (HF tests/utils/test_masking_utils.py
        // test_chunked_mask_with_left_padding_and_large_prefill)
        boolean[][] pad = {bits("00001111"), bits("11111111")};
        BooleanMask m = (BooleanMask) Masks.createChunkedCausalMask(Masks.MaskInputs.of("sdpa", 2, 8, pad), 3);
        boolean[][] r0 = rows(m, 0), r1 = rows(m, 1);
        assertArrayEquals(bits("00001000"), r0[4]);
        assertArrayEquals(bits("00001100"), r0[5]);
        assertArrayEquals(bits("00001110"), r0[6]);
        assertArrayEquals(bits("00000001"), r0[7]);
        assertArrayEquals(bits("00010000"), r1[3]);
        // Java's '/' would put kv - lp = -1 in chunk 0; floorDiv puts it in chunk -1
        assertFalse(MaskFunction.chunkedCausal(3, new int[] {2}).test(0, 0, 2, 1));
    }

    @Test
    void sdpaSkipsOnlyWhenItsOwnCausalPathIsExact() {
        assertNull(Masks.createCausalMask(Masks.MaskInputs.of("sdpa", 1, 5, null)));
        // Sq != Skv (cache offset): torch's is_causal is top-left aligned, so the mask must be materialised
        AttentionMask withCache =
                Masks.createCausalMask(Masks.MaskInputs.of("sdpa", 1, 3, null).withPastLength(2));
        assertNotNull(withCache);
        BooleanMask m = (BooleanMask) withCache;
        assertEquals(5, m.kvLength());
        assertArrayEquals(bits("11100"), rows(m, 0)[0]);
        assertArrayEquals(bits("11111"), rows(m, 0)[2]);
        // padding forces a mask
        assertNotNull(Masks.createCausalMask(Masks.MaskInputs.of("sdpa", 1, 3, new boolean[][] {bits("011")})));
    }

    @Test
    void bidirectionalMaskIsNullWithoutPaddingForEagerAndSdpa() {
        assertNull(Masks.createBidirectionalMask(Masks.MaskInputs.of("eager", 2, 4, null)));
        assertNull(Masks.createBidirectionalMask(
                Masks.MaskInputs.of("sdpa", 2, 4, new boolean[][] {bits("1111"), bits("1111")})));
        AttentionMask eager = Masks.createBidirectionalMask(
                Masks.MaskInputs.of("eager", 2, 4, new boolean[][] {bits("1111"), bits("1100")}));
        FloatTensor add = ((AdditiveMask) eager).scores();
        assertArrayEquals(new int[] {2, 1, 4, 4}, add.shape);
        assertEquals(0f, add.data[(1 * 4 + 0) * 4 + 1]);
        assertEquals(-Float.MAX_VALUE, add.data[(1 * 4 + 0) * 4 + 2]);
    }

    @Test
    void eagerCausalMaskIsNeverSkippedAndUsesFinfoMin() {
        FloatTensor add = ((AdditiveMask) Masks.createCausalMask(Masks.MaskInputs.of("eager", 1, 3, null))).scores();
        assertEquals(0f, add.data[2 * 3 + 2]);
        assertEquals(-Float.MAX_VALUE, add.data[0 * 3 + 1]);
    }

    @Test
    void isCausalFalseDelegatesToBidirectional() {
        assertNull(
                Masks.createCausalMask(Masks.MaskInputs.of("eager", 1, 3, null).withCausal(false)));
    }

    @Test
    void leftPaddedCausalRowsAreFullyMaskedAndNoBackendReturnsNaN() {
        boolean[][] pad = {bits("0011")};
        BooleanMask m = (BooleanMask) Masks.createCausalMask(Masks.MaskInputs.of("sdpa", 1, 4, pad));
        assertArrayEquals(bits("0000"), rows(m, 0)[0]);
        assertTrue(m.hasEmptyRow());
    }

    @Test
    void orAndMaskFunctionsComposeAndDisableSkip() {
        // or with "attend to position 0" on top of causal (a prefix/sink style rule)
        MaskFunction sink = (b, h, q, kv) -> kv == 0;
        BooleanMask m = (BooleanMask) Masks.createCausalMask(Masks.MaskInputs.of("sdpa", 1, 4, null)
                .withMaskFunctions(null, MaskFunction.slidingWindowCausal(2).or(sink)));
        assertArrayEquals(bits("1011"), rows(m, 0)[3]);
        BooleanMask all = (BooleanMask) Masks.createCausalMask(
                Masks.MaskInputs.of("sdpa", 1, 3, null).withMaskFunctions((b, h, q, kv) -> true, null));
        assertArrayEquals(bits("111"), rows(all, 0)[0]);
    }

    @Test
    void prebuiltMaskPassesThroughUnchanged() {
        AttentionMask custom = new BooleanMask(new boolean[] {true}, 1, 1, 1);
        assertSame(
                custom,
                Masks.createCausalMask(Masks.MaskInputs.of("sdpa", 1, 1, null).withPrebuilt(custom)));
    }
}
