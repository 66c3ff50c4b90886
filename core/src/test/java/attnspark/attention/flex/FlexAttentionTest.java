package attnspark.attention.flex;

import static attnspark.attention.flex.FlexTesting.assertMatchesOracle;
import static attnspark.attention.flex.FlexTesting.eagerMask;
import static attnspark.attention.flex.FlexTesting.rand;
import static org.junit.jupiter.api.Assertions.*;

import attnspark.attention.AdditiveMask;
import attnspark.attention.AttentionMask;
import attnspark.attention.AttentionModule;
import attnspark.attention.AttentionOutput;
import attnspark.attention.BlockMask;
import attnspark.attention.EagerAttention;
import attnspark.attention.MaskFunction;
import attnspark.attention.PaddingMask;
import attnspark.attention.dispatch.AttentionInterface;
import attnspark.attention.dispatch.AttentionMaskInterface;
import attnspark.attention.dispatch.Masks;
import attnspark.tensor.FloatTensor;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** flex_attention against the eager oracle (same mask function, eager's additive format) and against plain references. */
class FlexAttentionTest {
    private static final double TOL = 2e-5;

    private static int[][] packedPositions(Random r, int B, int S) {
        int[][] pos = new int[B][S];
        for (int b = 0; b < B; b++) {
            int p = 0;
            for (int s = 0; s < S; s++) {
                if (s > 0 && r.nextInt(40) == 0) p = 0; // a new packed sequence starts
                pos[b][s] = p++;
            }
        }
        return pos;
    }

    private static Map<String, MaskFunction> maskCases(Random r, int B, int S) {
        Map<String, MaskFunction> cases = new LinkedHashMap<>();
        cases.put("causal", MaskFunction.causal());
        cases.put("bidirectional", MaskFunction.bidirectional());
        cases.put("sliding window 37", MaskFunction.slidingWindowCausal(37));
        cases.put("sliding window 5", MaskFunction.slidingWindowCausal(5));
        cases.put("bidirectional sliding 20", MaskFunction.slidingWindowBidirectional(20));
        int[] leftPad = new int[B];
        boolean[][] pad = new boolean[B][S];
        for (int b = 0; b < B; b++) {
            leftPad[b] = b == 0 ? 0 : r.nextInt(S);
            for (int s = 0; s < S; s++) pad[b][s] = s >= leftPad[b];
        }
        cases.put("chunked 50", MaskFunction.chunkedCausal(50, null));
        cases.put(
                "chunked 16 left padded",
                MaskFunction.chunkedCausal(16, leftPad).and(MaskFunction.padding(pad)));
        cases.put("causal left padded", MaskFunction.causal().and(MaskFunction.padding(pad)));
        boolean[][] rightPad = new boolean[B][S];
        for (int b = 0; b < B; b++) {
            int valid = 1 + r.nextInt(S);
            for (int s = 0; s < S; s++) rightPad[b][s] = s < valid;
        }
        cases.put("causal right padded", MaskFunction.causal().and(MaskFunction.padding(rightPad)));
        int[][] seq = Masks.findPackedSequenceIndices(packedPositions(r, B, S), B);
        if (seq != null) cases.put("packed", MaskFunction.causal().and(MaskFunction.packedSequence(seq)));
        return cases;
    }

    @Test
    void matchesEagerForEveryMaskLengthAndBlockSize() {
        Random r = new Random(11);
        int B = 2, Hkv = 2, groups = 2, H = Hkv * groups, D = 8;
        EagerAttention eager = new EagerAttention();
        FlexAttention flex = new FlexAttention();
        for (int S : new int[] {1, 127, 128, 129, 300}) {
            FloatTensor q = rand(r, B, H, S, D), k = rand(r, B, Hkv, S, D), v = rand(r, B, Hkv, S, D);
            AttentionModule mod = AttentionModule.of(true, 0, groups, (float) (1 / Math.sqrt(D)));
            for (Map.Entry<String, MaskFunction> c : maskCases(r, B, S).entrySet()) {
                FloatTensor want = eager.apply(mod, q, k, v, eagerMask(c.getValue(), B, S, S), Map.of())
                        .output();
                for (int bs : new int[] {128, 16}) {
                    BlockMask bm = BlockMask.create(c.getValue(), B, null, S, S, bs);
                    AttentionOutput got = flex.apply(mod, q, k, v, bm, Map.of());
                    assertMatchesOracle(
                            want, got.output(), c.getValue(), S, TOL, c.getKey() + " S=" + S + " block=" + bs);
                    assertArrayEquals(new int[] {B, H, S}, got.weights().shape);
                }
            }
        }
    }

    @Test
    void decodeAndChunkedPrefillWithCacheOffsetsThroughTheMaskFormatters() {
        Random r = new Random(12);
        int B = 2, Hkv = 1, groups = 3, H = 3, D = 6;
        for (int[] qp : new int[][] {{1, 5}, {1, 200}, {129, 7}, {17, 300}, {128, 128}}) {
            int Sq = qp[0], past = qp[1], Skv = Sq + past;
            FloatTensor q = rand(r, B, H, Sq, D), k = rand(r, B, Hkv, Skv, D), v = rand(r, B, Hkv, Skv, D);
            boolean[][] pad = new boolean[B][Skv];
            for (int b = 0; b < B; b++) for (int s = 0; s < Skv; s++) pad[b][s] = s >= b * 3; // row 1 left padded by 3
            AttentionModule mod = AttentionModule.of(true, 0, groups, 0.4f);
            for (int variant = 0; variant < 3; variant++) {
                Masks.MaskInputs fin =
                        Masks.MaskInputs.of(FlexAttention.NAME, B, Sq, pad).withPastLength(past);
                Masks.MaskInputs ein = Masks.MaskInputs.of("eager", B, Sq, pad).withPastLength(past);
                AttentionMask fm, em;
                if (variant == 0) {
                    fm = Masks.createCausalMask(fin);
                    em = Masks.createCausalMask(ein);
                } else if (variant == 1) {
                    fm = Masks.createSlidingWindowCausalMask(fin, 9);
                    em = Masks.createSlidingWindowCausalMask(ein, 9);
                } else {
                    fm = Masks.createChunkedCausalMask(fin, 8);
                    em = Masks.createChunkedCausalMask(ein, 8);
                }
                assertInstanceOf(BlockMask.class, fm);
                FloatTensor want =
                        new EagerAttention().apply(mod, q, k, v, em, Map.of()).output();
                FloatTensor got =
                        new FlexAttention().apply(mod, q, k, v, fm, Map.of()).output();
                BlockMask bm = (BlockMask) fm;
                assertMatchesOracle(
                        want,
                        got,
                        (b, h, qi, kv) -> bm.allows(b, h, qi, kv),
                        Skv,
                        TOL,
                        "variant " + variant + " Sq=" + Sq + " past=" + past);
            }
        }
    }

    @Test
    void gqaReadsKvHeadHOverGroupsWithoutRepeating() {
        Random r = new Random(13);
        int B = 1, Hkv = 2, H = 8, S = 40, D = 4;
        FloatTensor q = rand(r, B, H, S, D), k = rand(r, B, Hkv, S, D), v = rand(r, B, Hkv, S, D);
        // explicit repeat_interleave of k/v and no GQA
        FloatTensor kr = FloatTensor.zeros(B, H, S, D), vr = FloatTensor.zeros(B, H, S, D);
        for (int h = 0; h < H; h++) {
            System.arraycopy(k.data, (h / 4) * S * D, kr.data, h * S * D, S * D);
            System.arraycopy(v.data, (h / 4) * S * D, vr.data, h * S * D, S * D);
        }
        BlockMask bm = BlockMask.create(MaskFunction.causal(), B, null, S, S, 16);
        FloatTensor gqa = new FlexAttention()
                .apply(AttentionModule.of(true, 0, 4, 0.5f), q, k, v, bm, Map.of())
                .output();
        FloatTensor rep = new FlexAttention()
                .apply(AttentionModule.of(true, 0, 1, 0.5f), q, kr, vr, bm, Map.of())
                .output();
        assertArrayEquals(rep.data, gqa.data, 1e-6f);
        assertThrows(
                IllegalArgumentException.class,
                () -> new FlexAttention()
                        .apply(AttentionModule.of(true, 0, 1, 0.5f), rand(r, 1, 3, S, D), k, v, bm, Map.of()));
    }

    /** Plain double-precision attention for one (b, h) with an arbitrary score function; null score = masked. */
    private interface Score {
        Double at(int b, int h, int q, int kv, double qk);
    }

    private static double[][] reference(
            FloatTensor q,
            FloatTensor k,
            FloatTensor v,
            int groups,
            float scaling,
            Score score,
            double[] lseOut,
            int b,
            int h) {
        int H = q.dim(1), Sq = q.dim(2), D = q.dim(3), Hkv = k.dim(1), Skv = k.dim(2), Dv = v.dim(3);
        int kh = b * Hkv + h / groups;
        double[][] out = new double[Sq][Dv];
        for (int i = 0; i < Sq; i++) {
            Double[] s = new Double[Skv];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < Skv; j++) {
                double dot = 0;
                for (int d = 0; d < D; d++)
                    dot += q.data[((b * H + h) * Sq + i) * D + d] * k.data[(kh * Skv + j) * D + d];
                s[j] = score.at(b, h, i, j, dot * scaling);
                if (s[j] != null) max = Math.max(max, s[j]);
            }
            double sum = 0;
            for (int j = 0; j < Skv; j++) if (s[j] != null) sum += Math.exp(s[j] - max);
            lseOut[i] = sum == 0 ? Double.NEGATIVE_INFINITY : max + Math.log(sum);
            if (sum == 0) continue;
            for (int j = 0; j < Skv; j++) {
                if (s[j] == null) continue;
                double p = Math.exp(s[j] - max) / sum;
                for (int d = 0; d < Dv; d++) out[i][d] += p * v.data[(kh * Skv + j) * Dv + d];
            }
        }
        return out;
    }

    private static void assertAgainstReference(
            FloatTensor q,
            FloatTensor k,
            FloatTensor v,
            int groups,
            float scaling,
            Score score,
            AttentionOutput got,
            double tol) {
        int B = q.dim(0), H = q.dim(1), Sq = q.dim(2), Dv = v.dim(3);
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < H; h++) {
                double[] lse = new double[Sq];
                double[][] want = reference(q, k, v, groups, scaling, score, lse, b, h);
                for (int i = 0; i < Sq; i++) {
                    float gotLse = got.weights().data[(b * H + h) * Sq + i];
                    if (lse[i] == Double.NEGATIVE_INFINITY) assertEquals(Float.NEGATIVE_INFINITY, gotLse);
                    else
                        assertEquals(
                                lse[i],
                                gotLse,
                                tol * Math.max(1, Math.abs(lse[i])),
                                "lse b=" + b + " h=" + h + " q=" + i);
                    for (int d = 0; d < Dv; d++) {
                        assertEquals(
                                want[i][d],
                                got.output().data[((b * Sq + i) * H + h) * Dv + d],
                                tol,
                                "out b=" + b + " h=" + h + " q=" + i + " d=" + d);
                    }
                }
            }
        }
    }

    @Test
    void alibiLikeScoreModMatchesPlainReference() {
        Random r = new Random(14);
        int B = 2, Hkv = 2, H = 4, S = 150, D = 8;
        float scaling = 0.35f;
        FloatTensor q = rand(r, B, H, S, D), k = rand(r, B, Hkv, S, D), v = rand(r, B, Hkv, S, D);
        float[] slope = {0.5f, 0.25f, 0.125f, 0.0625f};
        ScoreMod alibi = (s, b, h, qi, kv) -> s + slope[h] * (kv - qi);
        BlockMask bm = BlockMask.create(MaskFunction.causal(), B, null, S, S, 32);
        AttentionOutput got = new FlexAttention()
                .apply(AttentionModule.of(true, 0, 2, scaling), q, k, v, bm, Map.of("score_mod", alibi));
        assertAgainstReference(
                q, k, v, 2, scaling, (b, h, qi, kv, s) -> kv <= qi ? s + slope[h] * (kv - qi) : null, got, 1e-5);
    }

    @Test
    void softcapIsTanhScoreModAppliedBeforeTheUserScoreMod() {
        Random r = new Random(15);
        int B = 1, H = 2, S = 70, D = 16;
        FloatTensor q = rand(r, B, H, S, D), k = rand(r, B, H, S, D), v = rand(r, B, H, S, D);
        for (int i = 0; i < q.data.length; i++) q.data[i] *= 6; // large logits so the cap bites
        float scaling = 1f, cap = 5f;
        BlockMask bm = BlockMask.create(MaskFunction.slidingWindowCausal(20), B, null, S, S, 16);
        AttentionOutput got = new FlexAttention()
                .apply(AttentionModule.of(true, 0, 1, 0.1f), q, k, v, bm, Map.of("softcap", cap, "scaling", scaling));
        Score capped = (b, h, qi, kv, s) -> kv <= qi && kv > qi - 20 ? cap * Math.tanh(s / cap) : null;
        assertAgainstReference(q, k, v, 1, scaling, capped, got, 1e-5);
        // with a score_mod too: softcap first, then the mod
        ScoreMod plusOne = (s, b, h, qi, kv) -> s + (kv % 2);
        AttentionOutput both = new FlexAttention()
                .apply(
                        AttentionModule.of(true, 0, 1, scaling),
                        q,
                        k,
                        v,
                        bm,
                        Map.of("softcap", cap, "score_mod", plusOne));
        assertAgainstReference(
                q,
                k,
                v,
                1,
                scaling,
                (b, h, qi, kv, s) -> kv <= qi && kv > qi - 20 ? cap * Math.tanh(s / cap) + (kv % 2) : null,
                both,
                1e-5);
    }

    @Test
    void lseIsThePlainLogSumExpOfTheMaskedScaledScores() {
        Random r = new Random(16);
        int B = 2, H = 2, Sq = 129, Skv = 300, D = 8, past = Skv - Sq;
        FloatTensor q = rand(r, B, H, Sq, D), k = rand(r, B, 1, Skv, D), v = rand(r, B, 1, Skv, 5);
        MaskFunction f = MaskFunction.withOffsets(MaskFunction.causal(), past, 0);
        AttentionOutput got = new FlexAttention()
                .apply(
                        AttentionModule.of(true, 0, 2, 0.3f),
                        q,
                        k,
                        v,
                        BlockMask.create(f, B, null, Sq, Skv, 64),
                        Map.of());
        assertArrayEquals(new int[] {B, Sq, H, 5}, got.output().shape); // Dv != D works
        assertAgainstReference(q, k, v, 2, 0.3f, (b, h, qi, kv, s) -> kv <= qi + past ? s : null, got, 1e-5);
    }

    @Test
    void fullyMaskedRowsGiveZerosAndMinusInfinityLse() {
        Random r = new Random(17);
        int B = 2, H = 2, S = 140, D = 4;
        boolean[][] pad = new boolean[B][S];
        for (int s = 0; s < S; s++) {
            pad[0][s] = true;
            pad[1][s] = s >= 133; // 133 left-pad tokens
        }
        MaskFunction f = MaskFunction.causal().and(MaskFunction.padding(pad));
        FloatTensor q = rand(r, B, H, S, D), k = rand(r, B, H, S, D), v = rand(r, B, H, S, D);
        AttentionOutput got = new FlexAttention()
                .apply(
                        AttentionModule.of(true, 0, 1, 0.5f),
                        q,
                        k,
                        v,
                        BlockMask.create(f, B, null, S, S, 128),
                        Map.of());
        for (float x : got.output().data) assertFalse(Float.isNaN(x));
        for (int h = 0; h < H; h++) {
            for (int i = 0; i < S; i++) {
                float lse = got.weights().data[(H + h) * S + i];
                if (i < 133) {
                    assertEquals(Float.NEGATIVE_INFINITY, lse, "pad row " + i);
                    for (int d = 0; d < D; d++) assertEquals(0f, got.output().data[((S + i) * H + h) * D + d]);
                } else {
                    assertTrue(Float.isFinite(lse));
                }
            }
        }
        // everything masked: the kernel visits nothing
        FlexAttention flex = new FlexAttention();
        AttentionOutput none = flex.apply(
                AttentionModule.of(true, 0, 1, 0.5f),
                q,
                k,
                v,
                BlockMask.create((b, h, qi, kv) -> false, B, null, S, S, 16),
                Map.of());
        assertEquals(0, flex.blocksVisited());
        for (float x : none.output().data) assertEquals(0f, x);
        for (float x : none.weights().data) assertEquals(Float.NEGATIVE_INFINITY, x);
    }

    @Test
    void emptyBlocksAreNeverVisitedAndFullBlocksNeverEvaluateTheMaskMod() {
        Random r = new Random(18);
        int B = 2, H = 2, S = 300, D = 4;
        AtomicLong evaluations = new AtomicLong();
        MaskFunction counting = (b, h, qi, kv) -> {
            evaluations.incrementAndGet();
            return kv <= qi;
        };
        BlockMask bm = BlockMask.create(counting, 1, null, S, S, 128); // broadcast over batch and heads
        assertEquals(6, bm.nonEmptyBlocks());
        evaluations.set(0);
        FlexAttention flex = new FlexAttention();
        FloatTensor q = rand(r, B, H, S, D), k = rand(r, B, H, S, D), v = rand(r, B, H, S, D);
        flex.apply(AttentionModule.of(true, 0, 1, 0.5f), q, k, v, bm, Map.of());
        assertEquals(B * H * 6, flex.blocksVisited(), "3 of the 9 blocks are empty and skipped");
        // only the three diagonal (partial) blocks consult the mask mod: 128², 128², 44² entries per (b, h)
        assertEquals((long) B * H * (128 * 128 + 128 * 128 + 44 * 44), evaluations.get());
        // the counter accumulates per instance; no mask = every block once
        FlexAttention dense = new FlexAttention();
        dense.apply(AttentionModule.of(true, 0, 1, 0.5f), q, k, v, null, Map.of());
        assertEquals(B * H * 3 * 3, dense.blocksVisited());
        // a block-diagonal mask with block 16 over 300 tokens: 19 diagonal blocks of 361
        FlexAttention diag = new FlexAttention();
        BlockMask local = BlockMask.create((b, h, qi, kv) -> qi / 16 == kv / 16, B, 2, S, S, 16);
        diag.apply(AttentionModule.of(false, 0, 1, 0.5f), q, k, v, local, Map.of());
        assertEquals(B * H * 19, diag.blocksVisited());
    }

    @Test
    void noMaskMeansNoMaskingAndAFloatMaskIsHfsScoreMask() {
        Random r = new Random(19);
        int B = 2, H = 2, Sq = 30, Skv = 33, D = 4;
        FloatTensor q = rand(r, B, H, Sq, D), k = rand(r, B, H, Skv, D), v = rand(r, B, H, Skv, D);
        AttentionModule mod = AttentionModule.of(true, 0, 1, 0.5f); // is_causal is ignored by flex
        FloatTensor want =
                new EagerAttention().apply(mod, q, k, v, null, Map.of()).output();
        assertMatchesOracle(
                want, new FlexAttention().apply(mod, q, k, v, null, Map.of()).output(), null, Skv, TOL, "no mask");
        MaskFunction f = MaskFunction.withOffsets(MaskFunction.slidingWindowCausal(4), 3, 0);
        AdditiveMask add = eagerMask(f, B, Sq, Skv);
        FloatTensor wantMasked =
                new EagerAttention().apply(mod, q, k, v, add, Map.of()).output();
        FloatTensor got = new FlexAttention().apply(mod, q, k, v, add, Map.of()).output();
        assertMatchesOracle(wantMasked, got, f, Skv, TOL, "score mask");
    }

    @Test
    void attentionSinksRenormaliseWithTheLse() {
        Random r = new Random(20);
        int B = 1, H = 2, S = 50, D = 4;
        FloatTensor q = rand(r, B, H, S, D), k = rand(r, B, H, S, D), v = rand(r, B, H, S, D);
        float[] sinks = {0.7f, -1.5f};
        BlockMask bm = BlockMask.create(MaskFunction.causal(), B, null, S, S, 16);
        AttentionOutput got =
                new FlexAttention().apply(AttentionModule.of(true, 0, 1, 0.5f), q, k, v, bm, Map.of("s_aux", sinks));
        for (int h = 0; h < H; h++) {
            for (int i = 0; i < S; i++) {
                // eager_paged: an extra logit column per head, dropped after the softmax
                double[] s = new double[i + 1];
                double denom = Math.exp(sinks[h]);
                for (int j = 0; j <= i; j++) {
                    for (int d = 0; d < D; d++) s[j] += q.data[(h * S + i) * D + d] * k.data[(h * S + j) * D + d];
                    s[j] = Math.exp(s[j] * 0.5);
                    denom += s[j];
                }
                for (int d = 0; d < D; d++) {
                    double o = 0;
                    for (int j = 0; j <= i; j++) o += s[j] / denom * v.data[(h * S + j) * D + d];
                    assertEquals(o, got.output().data[(i * H + h) * D + d], 1e-5);
                }
            }
        }
        // sink = -inf is no sink
        AttentionOutput plain = new FlexAttention().apply(AttentionModule.of(true, 0, 1, 0.5f), q, k, v, bm, Map.of());
        AttentionOutput minusInf = new FlexAttention()
                .apply(AttentionModule.of(true, 0, 1, 0.5f), q, k, v, bm, Map.of("s_aux", new float[] {
                    Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY
                }));
        assertArrayEquals(plain.output().data, minusInf.output().data, 0f);
    }

    @Test
    void dropoutIsRejectedAndMismatchedMasksFail() {
        Random r = new Random(21);
        FloatTensor q = rand(r, 1, 1, 8, 4), k = rand(r, 1, 1, 8, 4), v = rand(r, 1, 1, 8, 4);
        AttentionModule mod = AttentionModule.of(true, 0, 1, 0.5f);
        BlockMask bm = BlockMask.create(MaskFunction.causal(), 1, null, 8, 8);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new FlexAttention().apply(mod, q, k, v, bm, Map.of("dropout", 0.1)));
        assertTrue(e.getMessage().contains("does not support `dropout`"), e.getMessage());
        Map<String, Object> zero = new HashMap<>();
        zero.put("dropout", 0.0);
        assertNotNull(new FlexAttention().apply(mod, q, k, v, bm, zero).output());
        assertThrows(
                IllegalArgumentException.class,
                () -> new FlexAttention()
                        .apply(mod, q, k, v, BlockMask.create(MaskFunction.causal(), 1, null, 8, 9), Map.of()));
        assertThrows(
                IllegalArgumentException.class,
                () -> new FlexAttention()
                        .apply(mod, q, k, v, BlockMask.create(MaskFunction.causal(), 3, null, 8, 8), Map.of()));
        IllegalArgumentException wrongForm = assertThrows(
                IllegalArgumentException.class,
                () -> new FlexAttention().apply(mod, q, k, v, new PaddingMask(new boolean[1][8]), Map.of()));
        assertTrue(
                wrongForm.getMessage().startsWith("flex_attention cannot take a PaddingMask (1, 8)"),
                wrongForm.getMessage());
    }

    @Test
    void registeredUnderFlexAttention() {
        assertInstanceOf(FlexAttention.class, AttentionInterface.ALL.get("flex_attention"));
        assertTrue(AttentionMaskInterface.ALL.containsGlobal("flex_attention"));
        AttentionMask m = Masks.createCausalMask(Masks.MaskInputs.of("flex_attention", 2, 5, null));
        BlockMask bm = assertInstanceOf(BlockMask.class, m);
        assertEquals(BlockMask.DEFAULT_BLOCK_SIZE, bm.blockSize());
        assertEquals(2, bm.batch());
        assertTrue(bm.headsBroadcast());
        assertEquals(5, bm.qLength());
        assertEquals(5, bm.kvLength());
    }
}
