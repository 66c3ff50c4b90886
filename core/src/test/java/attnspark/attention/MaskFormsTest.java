package attnspark.attention;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.attention.dispatch.AttentionInterface;
import attnspark.tensor.FloatTensor;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each backend given a mask form it cannot take fails naming the backend and the form, before computing anything. */
class MaskFormsTest {
    private static final int B = 1, H = 2, S = 4, D = 8;

    private static final BooleanMask DENSE = new BooleanMask(new boolean[B * S * S], B, S, S);
    private static final AdditiveMask ADDITIVE = new AdditiveMask(FloatTensor.zeros(B, 1, S, S));
    private static final PaddingMask PADDING = new PaddingMask(new boolean[B][S]);
    private static final BlockMask BLOCKS = BlockMask.create(MaskFunction.causal(), B, null, S, S);

    private static void assertRefused(String backend, AttentionMask mask, String form) {
        FloatTensor x = FloatTensor.zeros(B, H, S, D);
        AttentionModule module = AttentionModule.of(true, 0, 1, 0.5f);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> AttentionInterface.ALL.get(backend).apply(module, x, x, x, mask, Map.of()));
        assertTrue(e.getMessage().startsWith(backend + " cannot take a " + form), e.getMessage());
    }

    @Test
    void denseBackendsRefuseThePaddingAndBlockForms() {
        for (String backend : new String[] {"eager", "sdpa"}) {
            assertRefused(backend, PADDING, "PaddingMask (1, 4)");
            assertRefused(backend, BLOCKS, "BlockMask (1, 1*, 4, 4) in blocks of 128");
        }
    }

    @Test
    void flexRefusesTheDenseBooleanAndPaddingForms() {
        assertRefused("flex_attention", DENSE, "BooleanMask (1, 1, 4, 4)");
        assertRefused("flex_attention", PADDING, "PaddingMask (1, 4)");
    }

    @Test
    void flashRefusesTheAdditiveAndBlockForms() {
        assertRefused("flash_attention_2", ADDITIVE, "AdditiveMask FloatTensor");
        assertRefused("flash_attention_2", BLOCKS, "BlockMask");
    }

    @Test
    void everyFormDescribesItsShape() {
        assertEquals("BooleanMask (1, 1, 4, 4)", DENSE.describe());
        assertEquals("PaddingMask (1, 4)", PADDING.describe());
        assertTrue(ADDITIVE.describe().startsWith("AdditiveMask "), ADDITIVE.describe());
        assertEquals("BlockMask (1, 1*, 4, 4) in blocks of 128", BLOCKS.describe());
    }
}
