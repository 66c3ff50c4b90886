package attnspark.attention.paged;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.attention.AttentionFunction;
import attnspark.attention.AttentionModule;
import attnspark.attention.dispatch.AttentionInterface;
import attnspark.cache.PagedKvCache;
import attnspark.tensor.FloatTensor;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * HF's continuous-batching mask (generation/continuous_batching build_attention_mask; HF #42868): bottom-right causal
 * alignment for q < k, a sliding window {@code kv > qPos - w}, and {@code w == 1} meaning no
 * window. The visible set is read off the output: keys are all zero (uniform weights over
 * what is visible) and the value of cached position j is the one-hot e_j, so output[i][j] =
 * 1/|visible(i)| exactly where query i sees key j. Expected matrices are written by hand.
 */
class ContinuousBatchingMaskTest {
    static final int D = 8; // head dim = max kv length, for the one-hot values

    /** Runs a prefill of {@code past} tokens then a step of {@code q} tokens; returns the step's visibility (q, past+q). */
    static boolean[][] visibility(String name, int past, int q, int window) {
        AttentionFunction fn = AttentionInterface.ALL.get(name);
        AttentionModule m = AttentionModule.of(true, 0, 1, 1f);
        PagedKvCache cache = new PagedKvCache(1, 4, 4, 1, D);
        cache.allocate(0, 0);
        int total = past + q;
        float[] v = new float[total * D];
        for (int j = 0; j < total; j++) v[j * D + j] = 1f;
        Map<String, Object> kw = new HashMap<>();
        kw.put("cache", cache);
        kw.put("seq_ids", new int[] {0});
        kw.put("sliding_window", window);
        if (past > 0) {
            fn.apply(
                    m,
                    new FloatTensor(new float[past * D], 1, 1, past, D),
                    new FloatTensor(new float[past * D], 1, 1, past, D),
                    new FloatTensor(Arrays.copyOf(v, past * D), 1, 1, past, D),
                    null,
                    kw);
        }
        FloatTensor out = fn.apply(
                        m,
                        new FloatTensor(new float[q * D], 1, 1, q, D),
                        new FloatTensor(new float[q * D], 1, 1, q, D),
                        new FloatTensor(Arrays.copyOfRange(v, past * D, total * D), 1, 1, q, D),
                        null,
                        kw)
                .output();
        boolean[][] vis = new boolean[q][total];
        for (int i = 0; i < q; i++) {
            int n = 0;
            for (int j = 0; j < total; j++) if (out.data[i * D + j] > 0) n++;
            for (int j = 0; j < total; j++) {
                float x = out.data[i * D + j];
                vis[i][j] = x > 0;
                if (x > 0) assertEquals(1f / n, x, 1e-6f, "uniform over the visible keys");
            }
        }
        return vis;
    }

    static boolean[][] parse(String... rows) {
        boolean[][] m = new boolean[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            m[i] = new boolean[rows[i].length()];
            for (int j = 0; j < rows[i].length(); j++) m[i][j] = rows[i].charAt(j) == '1';
        }
        return m;
    }

    /** (past, q, window, expected rows separated by '/'); query i sits at position past + i. */
    @ParameterizedTest
    @CsvSource(
            delimiter = ';',
            value = {
                // k=8, q=4, w=6: sees kv <= 4+i and kv > 4+i-6
                "paged|eager; 4; 4; 6; 11111000/11111100/01111110/00111111",
                "paged|sdpa;  4; 4; 6; 11111000/11111100/01111110/00111111",
                // k=5, q=3, w=2
                "paged|eager; 2; 3; 2; 01100/00110/00011",
                "paged|sdpa;  2; 3; 2; 01100/00110/00011",
                // w == 1 means no window (CB convention)
                "paged|eager; 2; 3; 1; 11100/11110/11111",
                "paged|sdpa;  2; 3; 1; 11100/11110/11111"
            })
    void visibleKeys(String name, int past, int q, int window, String expected) {
        assertArrayEquals(parse(expected.split("/")), visibility(name, past, q, window));
    }
}
