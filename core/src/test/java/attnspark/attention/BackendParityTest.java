package attnspark.attention;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.attention.dispatch.Masks;
import attnspark.tensor.FloatTensor;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * sdpa against eager (the plain oracle), and eager against a textbook single-head softmax
 * written here, on random inputs with GQA, padding and offsets.
 */
class BackendParityTest {
    private static FloatTensor rand(Random r, int... shape) {
        FloatTensor t = FloatTensor.zeros(shape);
        for (int i = 0; i < t.data.length; i++) t.data[i] = (float) r.nextGaussian();
        return t;
    }

    private static void assertClose(FloatTensor a, FloatTensor b, double tol) {
        assertArrayEquals(a.shape, b.shape);
        for (int i = 0; i < a.data.length; i++) {
            assertFalse(Float.isNaN(b.data[i]), "NaN at " + i);
            assertEquals(a.data[i], b.data[i], tol, "index " + i);
        }
    }

    @Test
    void eagerMatchesTextbookAttention() {
        Random r = new Random(1);
        int Sq = 5, Skv = 7, D = 4;
        FloatTensor q = rand(r, 1, 2, Sq, D), k = rand(r, 1, 1, Skv, D), v = rand(r, 1, 1, Skv, D);
        AttentionOutput out =
                new EagerAttention().apply(AttentionModule.of(false, 0, 2, 0.5f), q, k, v, null, Map.of());
        for (int h = 0; h < 2; h++) {
            for (int i = 0; i < Sq; i++) {
                double[] s = new double[Skv];
                double max = -1e300, sum = 0;
                for (int j = 0; j < Skv; j++) {
                    for (int d = 0; d < D; d++) s[j] += q.data[(h * Sq + i) * D + d] * k.data[j * D + d];
                    s[j] *= 0.5;
                    max = Math.max(max, s[j]);
                }
                for (int j = 0; j < Skv; j++) sum += (s[j] = Math.exp(s[j] - max));
                for (int d = 0; d < D; d++) {
                    double o = 0;
                    for (int j = 0; j < Skv; j++) o += s[j] / sum * v.data[j * D + d];
                    assertEquals(o, out.output().data[(i * 2 + h) * D + d], 1e-5);
                }
            }
        }
    }

    @Test
    void sdpaMatchesEagerWithGqaPaddingCausalAndOffsets() {
        Random r = new Random(2);
        for (int trial = 0; trial < 20; trial++) {
            int B = 1 + r.nextInt(3), Hkv = 1 + r.nextInt(2), groups = 1 + r.nextInt(3), H = Hkv * groups;
            int Sq = 1 + r.nextInt(9), past = r.nextBoolean() ? 0 : r.nextInt(4), Skv = Sq + past, D = 2 + r.nextInt(7);
            boolean causal = r.nextBoolean();
            boolean[][] pad = null;
            if (r.nextBoolean()) {
                pad = new boolean[B][Skv];
                for (int b = 0; b < B; b++) {
                    int valid = 1 + r.nextInt(Skv);
                    boolean left = r.nextBoolean();
                    for (int s = 0; s < Skv; s++) pad[b][s] = left ? s >= Skv - valid : s < valid;
                }
            }
            FloatTensor q = rand(r, B, H, Sq, D), k = rand(r, B, Hkv, Skv, D), v = rand(r, B, Hkv, Skv, D);
            AttentionModule mod = AttentionModule.of(causal, 0, groups, (float) (1 / Math.sqrt(D)));
            Masks.MaskInputs in =
                    Masks.MaskInputs.of("sdpa", B, Sq, pad).withPastLength(past).withCausal(causal);
            AttentionMask sdpaMask = causal ? Masks.createCausalMask(in) : Masks.createBidirectionalMask(in);
            Masks.MaskInputs ein = Masks.MaskInputs.of("eager", B, Sq, pad)
                    .withPastLength(past)
                    .withCausal(causal);
            AttentionMask eagerMask = causal ? Masks.createCausalMask(ein) : Masks.createBidirectionalMask(ein);
            FloatTensor want = new EagerAttention()
                    .apply(mod, q, k, v, eagerMask, Map.of())
                    .output();
            FloatTensor got =
                    new SdpaAttention().apply(mod, q, k, v, sdpaMask, Map.of()).output();
            // compare rows that can attend to something; empty rows: sdpa gives zeros, eager a uniform average
            BooleanMask bm = sdpaMask instanceof BooleanMask m ? m : null;
            for (int b = 0; b < B; b++)
                for (int i = 0; i < Sq; i++) {
                    boolean empty = bm != null && !anyTrue(bm, b, i);
                    for (int h = 0; h < H; h++)
                        for (int d = 0; d < D; d++) {
                            int idx = ((b * Sq + i) * H + h) * D + d;
                            assertFalse(Float.isNaN(got.data[idx]) || Float.isNaN(want.data[idx]));
                            if (empty) assertEquals(0f, got.data[idx]);
                            else assertEquals(want.data[idx], got.data[idx], 1e-5, "trial " + trial);
                        }
                }
        }
    }

    private static boolean anyTrue(BooleanMask m, int b, int q) {
        for (int kv = 0; kv < m.kvLength(); kv++) if (m.get(b, q, kv)) return true;
        return false;
    }

    @Test
    void sdpaIsCausalKwargOverridesModule() {
        Random r = new Random(3);
        FloatTensor q = rand(r, 1, 1, 4, 3), k = rand(r, 1, 1, 4, 3), v = rand(r, 1, 1, 4, 3);
        AttentionModule causal = AttentionModule.of(true, 0, 1, 0.5f);
        AttentionModule bidir = AttentionModule.of(false, 0, 1, 0.5f);
        assertClose(
                new SdpaAttention().apply(bidir, q, k, v, null, Map.of()).output(),
                new SdpaAttention()
                        .apply(causal, q, k, v, null, Map.of("is_causal", false))
                        .output(),
                0);
    }
}
