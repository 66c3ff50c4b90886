package attnspark.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import attnspark.attention.SdpaAttention;
import attnspark.tensor.FloatTensor;
import java.util.Arrays;
import java.util.Random;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The tiled packed attention against a plain double-precision softmax(q·kᵀ·scale)·v written out
 * per (sequence, head, query), and bitwise: a sequence packed among others gives the same bits
 * as the sequence alone. Lengths cover every tile path (8-row P·V tiles, 4-row tiles after them, rows past the last 4-row tile, key
 * blocks past the last 4-block tile, one key); head dims 4 (one padded lane-group), 32 (two),
 * 48 (two plus one).
 */
class VectorPackedAttentionTest {
    static final int[] LENGTHS = {1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 33, 64, 65, 130};

    /** out (T, H·D) by the textbook formula in doubles. */
    static double[] reference(float[] qkv, int[] cu, int heads, int D, float scaling) {
        int width = heads * D, T = cu[cu.length - 1];
        double[] out = new double[T * width];
        for (int b = 0; b + 1 < cu.length; b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = cu[b]; i < cu[b + 1]; i++) {
                    int n = cu[b + 1] - cu[b];
                    double[] w = new double[n];
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int j = 0; j < n; j++) {
                        double dot = 0;
                        for (int d = 0; d < D; d++)
                            dot += (double) qkv[i * 3 * width + h * D + d]
                                    * qkv[(cu[b] + j) * 3 * width + width + h * D + d];
                        w[j] = dot * scaling;
                        max = Math.max(max, w[j]);
                    }
                    for (int j = 0; j < n; j++) sum += w[j] = Math.exp(w[j] - max);
                    for (int d = 0; d < D; d++) {
                        double o = 0;
                        for (int j = 0; j < n; j++)
                            o += w[j] / sum * qkv[(cu[b] + j) * 3 * width + 2 * width + h * D + d];
                        out[i * width + h * D + d] = o;
                    }
                }
            }
        }
        return out;
    }

    static float[] random(Random rnd, int n, float scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian() * scale;
        return x;
    }

    static int[] cuSeqlens(int[] lengths) {
        int[] cu = new int[lengths.length + 1];
        for (int b = 0; b < lengths.length; b++) cu[b + 1] = cu[b] + lengths[b];
        return cu;
    }

    /**
     * Through the model's entry point, {@code SdpaAttention.packedBidirectional}: with the Vector
     * API it is this kernel, without it the plain-loop row kernel; both against the formula, with
     * q|k|v and the output at offsets inside longer arrays.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void matchesTheDoublePrecisionFormula(boolean vector) {
        boolean prev = Kernels.useVectorApi(vector);
        try {
            assertEquals(vector, Kernels.vectorApi(), "the test JVM runs with jdk.incubator.vector");
            for (int D : new int[] {4, 32, 48}) {
                int heads = 3, width = heads * D;
                int[] cu = cuSeqlens(LENGTHS);
                Random rnd = new Random(D);
                float[] qkv =
                        random(rnd, cu[LENGTHS.length] * 3 * width, 1.5f); // scores of a few units: a peaked softmax
                float scaling = (float) (1 / Math.sqrt(D));
                // qkv 9 floats into a longer array and out 12 (an arena's spans); out's neighbours kept
                float[] qkvShifted = new float[9 + qkv.length];
                System.arraycopy(qkv, 0, qkvShifted, 9, qkv.length);
                int T = cu[LENGTHS.length];
                float[] out = new float[12 + T * width + 5];
                Arrays.fill(out, -3f);
                SdpaAttention.packedBidirectional(
                        new FloatSpan(qkvShifted, 9), cu, LENGTHS.length, heads, D, scaling, new FloatSpan(out, 12));
                double[] want = reference(qkv, cu, heads, D, scaling);
                for (int x = 0; x < T * width; x++) {
                    assertEquals(
                            want[x],
                            out[12 + x],
                            2e-5 * (1 + Math.abs(want[x])),
                            "vector " + vector + " D " + D + " token " + x / width + " dim " + x % width);
                }
                for (int x = 0; x < 12; x++) assertEquals(-3f, out[x], "before out's span, float " + x);
                for (int x = 12 + T * width; x < out.length; x++)
                    assertEquals(-3f, out[x], "after out's span, float " + x);
            }
        } finally {
            Kernels.useVectorApi(prev);
        }
    }

    /**
     * Packed among 13 others the heads go in groups of up to 4 per work item (here 4 + 2), alone
     * one per item: the bits must not change.
     */
    @Test
    void aSequenceHasTheSameBitsAloneAndPackedAmongOthers() {
        int heads = 6, D = 32, width = heads * D;
        float scaling = (float) (1 / Math.sqrt(D));
        int[] cu = cuSeqlens(LENGTHS);
        float[] qkv = random(new Random(7), cu[LENGTHS.length] * 3 * width, 1f);
        float[] packed = new float[cu[LENGTHS.length] * width];
        VectorPackedAttention.bidirectional(
                FloatSpan.of(qkv), cu, LENGTHS.length, heads, D, scaling, FloatSpan.of(packed));
        for (int b = 0; b < LENGTHS.length; b++) {
            int n = LENGTHS[b];
            float[] one = new float[n * 3 * width], alone = new float[n * width];
            System.arraycopy(qkv, cu[b] * 3 * width, one, 0, one.length);
            VectorPackedAttention.bidirectional(
                    FloatSpan.of(one), new int[] {0, n}, 1, heads, D, scaling, FloatSpan.of(alone));
            for (int x = 0; x < alone.length; x++) {
                float got = packed[cu[b] * width + x];
                if (Float.floatToRawIntBits(alone[x]) != Float.floatToRawIntBits(got)) {
                    fail("sequence " + b + " (length " + n + ") token " + x / width + " dim " + x % width + ": alone "
                            + alone[x] + ", packed at row " + cu[b] + " " + got);
                }
            }
        }
    }

    /**
     * {@link VectorPackedAttention#headsFirst} (SDPA's FLASH_ATTENTION kernel with the Vector API)
     * against the double formula on torch's heads-first layout: top-left causal and full, GQA
     * (6 query heads over 2 kv heads), value dims 24, 72 and 96 beside key dim 40 (P·V tiles of 2, 4 +
     * 1 and 4 + 2 lane-groups), Sq below, equal to and above Skv, every tile path (lengths
     * 1..130); and bitwise: batch row 1 of a B=2 call gives the bits of the same row called alone.
     */
    @Test
    void headsFirstMatchesTheFormulaCausalAndFullWithGqa() {
        for (int Dv : new int[] {24, 72, 96}) headsFirstMatchesTheFormula(40, Dv);
    }

    private static void headsFirstMatchesTheFormula(int D, int Dv) {
        int H = 6, Hkv = 2;
        float scaling = (float) (1 / Math.sqrt(D));
        for (boolean causal : new boolean[] {true, false}) {
            for (int[] sqSkv : new int[][] {{1, 1}, {5, 5}, {17, 17}, {130, 130}, {7, 33}, {33, 9}, {64, 65}}) {
                int Sq = sqSkv[0], Skv = sqSkv[1], B = 2;
                Random rnd = new Random(31 * Sq + Skv + (causal ? 1 : 0));
                float[] q = random(rnd, B * H * Sq * D, 1.5f), k = random(rnd, B * Hkv * Skv * D, 1.5f);
                float[] v = random(rnd, B * Hkv * Skv * Dv, 1f);
                float[] out = new float[B * Sq * H * Dv];
                VectorPackedAttention.Sequence[] seqs = {
                    new VectorPackedAttention.Sequence(0, 0, Sq, 0, Skv),
                    new VectorPackedAttention.Sequence(1, 0, Sq, 0, Skv)
                };
                VectorPackedAttention.headsFirst(
                        new FloatTensor(q, B, H, Sq, D),
                        new FloatTensor(k, B, Hkv, Skv, D),
                        new FloatTensor(v, B, Hkv, Skv, Dv),
                        seqs,
                        causal,
                        scaling,
                        out);
                for (int b = 0; b < B; b++)
                    for (int h = 0; h < H; h++)
                        for (int i = 0; i < Sq; i++) {
                            int kvh = h / (H / Hkv), seen = causal ? Math.min(Skv, i + 1) : Skv;
                            double[] w = new double[seen];
                            double max = Double.NEGATIVE_INFINITY, sum = 0;
                            for (int j = 0; j < seen; j++) {
                                double dot = 0;
                                for (int d = 0; d < D; d++)
                                    dot += (double) q[((b * H + h) * Sq + i) * D + d]
                                            * k[((b * Hkv + kvh) * Skv + j) * D + d];
                                w[j] = dot * scaling;
                                max = Math.max(max, w[j]);
                            }
                            for (int j = 0; j < seen; j++) sum += w[j] = Math.exp(w[j] - max);
                            for (int d = 0; d < Dv; d++) {
                                double o = 0;
                                for (int j = 0; j < seen; j++)
                                    o += w[j] / sum * v[((b * Hkv + kvh) * Skv + j) * Dv + d];
                                float got = out[((b * Sq + i) * H + h) * Dv + d];
                                assertEquals(
                                        o,
                                        got,
                                        2e-5 * (1 + Math.abs(o)),
                                        "causal " + causal + " Sq " + Sq + " Skv " + Skv + " Dv " + Dv + " b " + b
                                                + " h " + h + " i " + i + " d " + d);
                            }
                        }
                // batch row 1 alone: same bits
                float[] alone = new float[Sq * H * Dv];
                VectorPackedAttention.headsFirst(
                        new FloatTensor(Arrays.copyOfRange(q, H * Sq * D, 2 * H * Sq * D), 1, H, Sq, D),
                        new FloatTensor(Arrays.copyOfRange(k, Hkv * Skv * D, 2 * Hkv * Skv * D), 1, Hkv, Skv, D),
                        new FloatTensor(Arrays.copyOfRange(v, Hkv * Skv * Dv, 2 * Hkv * Skv * Dv), 1, Hkv, Skv, Dv),
                        new VectorPackedAttention.Sequence[] {new VectorPackedAttention.Sequence(0, 0, Sq, 0, Skv)},
                        causal,
                        scaling,
                        alone);
                for (int x = 0; x < alone.length; x++) {
                    assertEquals(
                            Float.floatToRawIntBits(alone[x]),
                            Float.floatToRawIntBits(out[Sq * H * Dv + x]),
                            "causal " + causal + " Sq " + Sq + " Skv " + Skv + ": element " + x
                                    + " alone vs batch row 1");
                }
            }
        }
    }

    /**
     * Each output dim is one chain over the keys whatever P·V tile computes it: a head of 96 value
     * dims (4- and 2-lane-group tiles) gives, bit for bit, the outputs of four calls on its 24-dim
     * slices of V (2-lane-group tiles), causal and full, at 130 tokens (8-row, 4-row and single-row
     * query tiles) and a Llama head's 64 key dims.
     */
    @Test
    void valueDimsGiveTheSameBitsInAnyPvTile() {
        int n = 130, D = 64, Dv = 96, slice = 24;
        Random rnd = new Random(12);
        float[] q = random(rnd, n * D, 1.5f), k = random(rnd, n * D, 1.5f), v = random(rnd, n * Dv, 1f);
        for (boolean causal : new boolean[] {true, false}) {
            float[] whole = oneHead(q, k, v, n, D, Dv, causal);
            for (int s0 = 0; s0 < Dv; s0 += slice) {
                float[] vs = new float[n * slice];
                for (int j = 0; j < n; j++) System.arraycopy(v, j * Dv + s0, vs, j * slice, slice);
                float[] part = oneHead(q, k, vs, n, D, slice, causal);
                for (int i = 0; i < n; i++)
                    for (int d = 0; d < slice; d++)
                        assertEquals(
                                Float.floatToRawIntBits(part[i * slice + d]),
                                Float.floatToRawIntBits(whole[i * Dv + s0 + d]),
                                "causal " + causal + " row " + i + " dim " + (s0 + d) + ": 96-dim call vs its slice");
            }
        }
    }

    /** {@link VectorPackedAttention#headsFirst} of one head over one sequence of n tokens: (n, Dv). */
    private static float[] oneHead(float[] q, float[] k, float[] v, int n, int D, int Dv, boolean causal) {
        float[] out = new float[n * Dv];
        VectorPackedAttention.headsFirst(
                new FloatTensor(q, 1, 1, n, D),
                new FloatTensor(k, 1, 1, n, D),
                new FloatTensor(v, 1, 1, n, Dv),
                new VectorPackedAttention.Sequence[] {new VectorPackedAttention.Sequence(0, 0, n, 0, n)},
                causal,
                (float) (1 / Math.sqrt(D)),
                out);
        return out;
    }

    /**
     * The softmax max must come from the keys a row sees only. Causal: key j scores about 57·(j+1)
     * against every query, so a row that took a later (hidden) key's score as its max would
     * underflow every e^(s - max) to 0 and divide by 0; the right answer is row i ≈ v_i. Padded
     * lanes: the scratch still holds a previous, longer call's keys, which would score far above
     * the new sequence's own keys.
     */
    @Test
    void aKeyTheRowDoesNotSeeNeverSetsItsMax() {
        int n = 70, D = 8;
        float scaling = (float) (1 / Math.sqrt(D));
        float[] q = new float[n * D], k = new float[n * D], v = random(new Random(3), n * D, 1f);
        Arrays.fill(q, 1f);
        for (int j = 0; j < n; j++) Arrays.fill(k, j * D, (j + 1) * D, 20f * (j + 1));
        float[] out = oneHead(q, k, v, n, D, D, true);
        for (int x = 0; x < out.length; x++) assertEquals(v[x], out[x], 1e-6, "causal row " + x / D + " dim " + x % D);

        int heads = 1, width = D, big = 130, small = 17;
        float[] first = new float[big * 3 * width];
        Arrays.fill(first, 100f); // keys of 100 in every lane the next call pads
        VectorPackedAttention.bidirectional(
                FloatSpan.of(first), new int[] {0, big}, 1, heads, D, scaling, FloatSpan.of(new float[big * width]));
        float[] qkv = random(new Random(4), small * 3 * width, 1f);
        for (int t = 0; t < small; t++)
            for (int d = 0; d < D; d++) qkv[t * 3 * width + d] = Math.abs(qkv[t * 3 * width + d]) + 0.5f; // q > 0
        float[] got = new float[small * width];
        VectorPackedAttention.bidirectional(
                FloatSpan.of(qkv), new int[] {0, small}, 1, heads, D, scaling, FloatSpan.of(got));
        double[] want = reference(qkv, new int[] {0, small}, heads, D, scaling);
        for (int x = 0; x < got.length; x++)
            assertEquals(
                    want[x], got[x], 2e-5 * (1 + Math.abs(want[x])), "padded lanes: token " + x / D + " dim " + x % D);
    }

    /**
     * The row max the softmax shifts by, for 1-5 lane-groups (2 and 3 take the straight-line form,
     * the others the loop): bit for bit the plain left-to-right {@code Math.max} over the floats,
     * with -inf (masked keys), -0.0 beside +0.0, all-negative rows and a NaN among them.
     */
    @Test
    void maxOfIsTheFloatMaxOfTheRow() {
        int L = FloatVector.SPECIES_PREFERRED.length();
        Random rnd = new Random(11);
        for (int groups = 1; groups <= 5; groups++) {
            for (int trial = 0; trial < 200; trial++) {
                int from = 3 + rnd.nextInt(5) * L; // not at the array's start
                float[] row = new float[from + groups * L + 7];
                Arrays.fill(row, 1e30f); // around the row: never part of its max
                for (int j = 0; j < groups * L; j++) {
                    float v = (float) rnd.nextGaussian() * 10 - (trial % 2 == 0 ? 40 : 0); // even trials: all negative
                    switch (rnd.nextInt(12)) {
                        case 0 -> v = Float.NEGATIVE_INFINITY;
                        case 1 -> v = -0.0f;
                        case 2 -> v = 0.0f;
                        default -> {}
                    }
                    row[from + j] = v;
                }
                if (trial % 50 == 7) row[from + rnd.nextInt(groups * L)] = Float.NaN;
                float want = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < groups * L; j++) want = Math.max(want, row[from + j]);
                float got = VectorPackedAttention.maxOf(row, from, from + groups * L);
                if (Float.isNaN(want)) {
                    assertTrue(Float.isNaN(got), groups + " lane-groups, trial " + trial + ": a NaN in the row");
                } else {
                    assertEquals(
                            Float.floatToRawIntBits(want),
                            Float.floatToRawIntBits(got),
                            groups + " lane-groups, trial " + trial + ": want " + want + ", got " + got);
                }
            }
        }
    }
}
