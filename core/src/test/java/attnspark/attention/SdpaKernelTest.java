package attnspark.attention;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.attention.dispatch.Masks;
import attnspark.kernels.Kernels;
import attnspark.tensor.FloatTensor;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** torch.nn.attention.sdpa_kernel analogue: scoping, eligibility, and each kernel against eager. */
class SdpaKernelTest {
    static FloatTensor rand(Random r, int... shape) {
        FloatTensor t = FloatTensor.zeros(shape);
        for (int i = 0; i < t.data.length; i++) t.data[i] = (float) r.nextGaussian();
        return t;
    }

    static FloatTensor eagerWith(AttentionModule m, FloatTensor q, FloatTensor k, FloatTensor v, boolean[] see) {
        int B = q.dim(0), Sq = q.dim(2), Skv = k.dim(2);
        return new EagerAttention()
                .apply(m, q, k, v, new BooleanMask(see, B, Sq, Skv), Map.of())
                .output();
    }

    static void assertClose(FloatTensor want, FloatTensor got, String what) {
        assertArrayEquals(want.shape, got.shape);
        for (int i = 0; i < want.data.length; i++) assertEquals(want.data[i], got.data[i], 2e-5, what + " index " + i);
    }

    /**
     * Each kernel alone equals eager: causal Sq == Skv across tile edges, SDPA's top-left causal
     * when Sq != Skv (torch's is_causal is top-left aligned, pytorch/pytorch#108108), and (for kernels that take masks) a padding mask.
     */
    @ParameterizedTest
    @EnumSource(SdpaKernel.class)
    void eachKernelAloneMatchesEager(SdpaKernel kernel) {
        Random r = new Random(kernel.ordinal() + 1);
        int H = 8, Hkv = 2, D = 16;
        AttentionModule m = AttentionModule.of(true, 0, 4, 0.25f);
        try (SdpaKernel.Scope s = SdpaKernel.select(kernel)) {
            assertEquals(List.of(kernel), SdpaKernel.allowed());
            for (int[] sz : new int[][] {{65, 65}, {3, 5}, {70, 130}, {1, 9}}) {
                int Sq = sz[0], Skv = sz[1];
                FloatTensor q = rand(r, 2, H, Sq, D), k = rand(r, 2, Hkv, Skv, D), v = rand(r, 2, Hkv, Skv, D);
                boolean[] see = new boolean[2 * Sq * Skv];
                for (int b = 0; b < 2; b++)
                    for (int i = 0; i < Sq; i++)
                        for (int j = 0; j < Skv; j++)
                            see[(b * Sq + i) * Skv + j] = Sq == 1 || j <= i; // top-left; decode never causal
                assertClose(
                        eagerWith(m, q, k, v, see),
                        new SdpaAttention().apply(m, q, k, v, null, Map.of()).output(),
                        kernel + " Sq=" + Sq + " Skv=" + Skv);
            }
            if (kernel != SdpaKernel.FLASH_ATTENTION) {
                int S = 70;
                boolean[][] pad = new boolean[2][S];
                for (int j = 0; j < S; j++) {
                    pad[0][j] = j >= 20;
                    pad[1][j] = j < 50;
                }
                FloatTensor q = rand(r, 2, H, S, D), k = rand(r, 2, Hkv, S, D), v = rand(r, 2, Hkv, S, D);
                AttentionMask mask = Masks.createCausalMask(Masks.MaskInputs.of("sdpa", 2, S, pad));
                FloatTensor got =
                        new SdpaAttention().apply(m, q, k, v, mask, Map.of()).output();
                FloatTensor want = new EagerAttention()
                        .apply(m, q, k, v, Masks.createCausalMask(Masks.MaskInputs.of("eager", 2, S, pad)), Map.of())
                        .output();
                for (int b = 0; b < 2; b++)
                    for (int i = 0; i < S; i++)
                        for (int x = 0; x < H * D; x++) {
                            int idx = (b * S + i) * H * D + x;
                            assertFalse(Float.isNaN(got.data[idx]));
                            // left-pad query rows see nothing: zeros (eager gives a uniform average there)
                            if (b == 0 && i < 20) assertEquals(0f, got.data[idx], kernel + " empty row");
                            else
                                assertEquals(
                                        want.data[idx], got.data[idx], 2e-5, kernel + " padded b=" + b + " i=" + i);
                        }
            }
        }
        assertEquals(SdpaKernel.DEFAULT_PRIORITY, SdpaKernel.allowed());
    }

    /**
     * The row kernel's two versions (Vector API, plain loops) against eager: short and odd key
     * counts (1, 5, 14, 33: below, at and across a vector width), causal, a padding mask as
     * booleans and as eager's additive floats, GQA.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void efficientRowsMatchEagerWithAndWithoutTheVectorApi(boolean vector) {
        boolean prev = Kernels.useVectorApi(vector);
        try (SdpaKernel.Scope s = SdpaKernel.select(SdpaKernel.EFFICIENT_ATTENTION)) {
            assertEquals(vector, Kernels.vectorApi(), "the test JVM runs with jdk.incubator.vector");
            Random r = new Random(vector ? 11 : 12);
            int H = 6, Hkv = 3, D = 32;
            for (int[] sz : new int[][] {{1, 1}, {3, 5}, {14, 14}, {17, 33}}) {
                int Sq = sz[0], Skv = sz[1];
                AttentionModule m = AttentionModule.of(true, 0, H / Hkv, (float) (1 / Math.sqrt(D)));
                FloatTensor q = rand(r, 2, H, Sq, D), k = rand(r, 2, Hkv, Skv, D), v = rand(r, 2, Hkv, Skv, D);
                boolean[] see = new boolean[2 * Sq * Skv];
                for (int b = 0; b < 2; b++)
                    for (int i = 0; i < Sq; i++)
                        for (int j = 0; j < Skv; j++)
                            see[(b * Sq + i) * Skv + j] = (Sq == 1 || j <= i) && (b == 0 || j < Skv - 1 || Skv == 1);
                FloatTensor want = eagerWith(m, q, k, v, see);
                assertClose(
                        want,
                        new SdpaAttention()
                                .apply(m, q, k, v, new BooleanMask(see, 2, Sq, Skv), Map.of())
                                .output(),
                        "boolean mask, vector=" + vector + " Sq=" + Sq + " Skv=" + Skv);
                float[] add = new float[see.length];
                for (int x = 0; x < add.length; x++) add[x] = see[x] ? 0f : MaskFormats.MIN_VALUE;
                assertClose(
                        want,
                        new SdpaAttention()
                                .apply(m, q, k, v, new AdditiveMask(new FloatTensor(add, 2, 1, Sq, Skv)), Map.of())
                                .output(),
                        "additive mask, vector=" + vector + " Sq=" + Sq + " Skv=" + Skv);
            }
        } finally {
            Kernels.useVectorApi(prev);
        }
    }

    /** torch.nn.attention.sdpa_kernel / x-transformers#143: FLASH only with a materialised mask leaves nothing eligible. */
    @Test
    void flashOnlyWithPaddingMaskIsNoAvailableKernel() {
        Random r = new Random(3);
        int S = 6;
        boolean[][] pad = {{false, false, true, true, true, true}, {true, true, true, true, true, true}};
        AttentionMask mask = Masks.createCausalMask(Masks.MaskInputs.of("sdpa", 2, S, pad));
        FloatTensor q = rand(r, 2, 2, S, 4);
        AttentionModule m = AttentionModule.of(true, 0, 1, 0.5f);
        try (SdpaKernel.Scope s = SdpaKernel.select(SdpaKernel.FLASH_ATTENTION)) {
            IllegalStateException e = assertThrows(
                    IllegalStateException.class, () -> new SdpaAttention().apply(m, q, q, q, mask, Map.of()));
            assertTrue(e.getMessage().startsWith("No available kernel"), e.getMessage());
            assertTrue(
                    e.getMessage().contains("FLASH_ATTENTION: needs attn_mask == null, got a BooleanMask (2, 1, 6, 6)"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("Allow EFFICIENT_ATTENTION or MATH"), e.getMessage());
            // without a mask FLASH runs
            assertNotNull(new SdpaAttention().apply(m, q, q, q, null, Map.of()).output());
        }
        // the default order falls through to EFFICIENT_ATTENTION
        assertNotNull(new SdpaAttention().apply(m, q, q, q, mask, Map.of()).output());
    }

    @Test
    void scopesNestAndAreRestoredOnException() {
        List<SdpaKernel> before = SdpaKernel.allowed();
        assertEquals(List.of(SdpaKernel.FLASH_ATTENTION, SdpaKernel.EFFICIENT_ATTENTION, SdpaKernel.MATH), before);
        RuntimeException boom = assertThrows(RuntimeException.class, () -> {
            try (SdpaKernel.Scope outer = SdpaKernel.select(SdpaKernel.MATH, SdpaKernel.FLASH_ATTENTION)) {
                assertEquals(
                        List.of(SdpaKernel.FLASH_ATTENTION, SdpaKernel.MATH), SdpaKernel.allowed()); // default priority
                try (SdpaKernel.Scope inner =
                        SdpaKernel.selectWithPriority(SdpaKernel.MATH, SdpaKernel.EFFICIENT_ATTENTION)) {
                    assertEquals(List.of(SdpaKernel.MATH, SdpaKernel.EFFICIENT_ATTENTION), SdpaKernel.allowed());
                    throw new RuntimeException("boom");
                } finally {
                    assertEquals(List.of(SdpaKernel.FLASH_ATTENTION, SdpaKernel.MATH), SdpaKernel.allowed());
                }
            }
        });
        assertEquals("boom", boom.getMessage());
        assertEquals(before, SdpaKernel.allowed());
        assertThrows(IllegalArgumentException.class, SdpaKernel::select);
    }

    /** The scope is per thread: another thread keeps the default. */
    @Test
    void selectionIsThreadLocal() throws Exception {
        try (SdpaKernel.Scope s = SdpaKernel.select(SdpaKernel.MATH)) {
            List<SdpaKernel>[] seen = new List[1];
            Thread t = new Thread(() -> seen[0] = SdpaKernel.allowed());
            t.start();
            t.join();
            assertEquals(SdpaKernel.DEFAULT_PRIORITY, seen[0]);
            assertEquals(List.of(SdpaKernel.MATH), SdpaKernel.allowed());
        }
    }

    @Test
    void sdpaRejectsSoftcapAndSinksNamingTheBackendsThatHaveThem() {
        FloatTensor x = FloatTensor.zeros(1, 2, 3, 4);
        AttentionModule m = AttentionModule.of(true, 0, 1, 0.5f);
        for (Map<String, Object> kw :
                List.<Map<String, Object>>of(Map.of("softcap", 30f), Map.of("s_aux", new float[2]))) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> new SdpaAttention().apply(m, x, x, x, null, kw));
            for (String b : new String[] {"eager", "flex_attention", "flash_attention_2"}) {
                assertTrue(e.getMessage().contains(b), e.getMessage());
            }
        }
    }
}
