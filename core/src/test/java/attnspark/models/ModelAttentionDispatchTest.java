package attnspark.models;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.attention.AttentionFunction;
import attnspark.attention.dispatch.AttentionInterface;
import attnspark.models.llama.LlamaModel;
import attnspark.testutil.Shared;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** How a real model (stories260K) dispatches through its registry: kwargs, overrides, switching. */
class ModelAttentionDispatchTest {
    static final int[][] IDS = {{1, 403, 407, 261, 378}, {1, 403, 407}};

    @Test
    void forwardKwargsReachTheAttentionFunctionUnchanged() {
        LlamaModel m = LlamaModel.fromPretrained(Shared.stories260k(), "sdpa");
        AtomicInteger calls = new AtomicInteger();
        AtomicReference<Object> seen = new AtomicReference<>();
        AttentionFunction sdpa = AttentionInterface.ALL.get("sdpa");
        // a local override seen only by this model, delegating to sdpa
        m.attentionFunctions.put("spy", (mod, q, k, v, mask, kw) -> {
            calls.incrementAndGet();
            seen.set(kw.get("my_user_key"));
            return sdpa.apply(mod, q, k, v, mask, kw);
        });
        float[] plain = m.forward(new SequenceBatch(IDS), Map.of());
        m.setAttnImplementation("spy");
        float[] spied = m.forward(new SequenceBatch(IDS), Map.of("my_user_key", "hello"));
        // attention runs once per sequence (B = 1; see LlamaModel#forward on batch invariance)
        assertEquals(5 * IDS.length, calls.get(), "one call per layer and sequence");
        assertEquals("hello", seen.get());
        // "spy" has no mask formatter, so sdpa gets no mask: the same numbers up to float rounding
        assertArrayEquals(plain, spied, 1e-5f);
        assertThrows(
                IllegalArgumentException.class,
                () -> LlamaModel.fromPretrained(Shared.stories260k(), "spy"),
                "a local override is invisible to other models");
    }

    @Test
    void perCallIsCausalOverridesOnlyThatCallAndEqualsTheConfigFlag() {
        Path dir = Shared.stories260k();
        LlamaModel m = LlamaModel.fromPretrained(dir, "sdpa");
        LlamaModel bidir = LlamaModel.fromPretrained(
                HfConfig.read(dir.resolve("config.json")).with("is_causal", false), dir, "sdpa");
        SequenceBatch batch = new SequenceBatch(IDS);
        float[] causal = m.forward(batch, Map.of());
        float[] overridden = m.forward(batch, Map.of("is_causal", false));
        float[] again = m.forward(batch, Map.of());
        assertArrayEquals(causal, again, 0f, "the override lasts for one call");
        assertArrayEquals(bidir.forward(batch, Map.of()), overridden, 1e-6f);
        double diff = 0;
        for (int i = 0; i < causal.length; i++) diff = Math.max(diff, Math.abs(causal[i] - overridden[i]));
        assertTrue(diff > 1e-3, "bidirectional attention must change the hidden states");
        // eager agrees with sdpa on the bidirectional pass
        m.setAttnImplementation("eager");
        assertArrayEquals(overridden, m.forward(batch, Map.of("is_causal", false)), 1e-4f);
    }

    @Test
    void concurrentCallsWithDifferentCausalityDoNotInterfere() throws Exception {
        LlamaModel m = LlamaModel.fromPretrained(Shared.stories260k(), "sdpa");
        SequenceBatch batch = new SequenceBatch(IDS);
        float[] causal = m.forward(batch, Map.of()), bidir = m.forward(batch, Map.of("is_causal", false));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> fs = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                boolean c = t % 2 == 0;
                fs.add(pool.submit(() -> Arrays.equals(
                        c ? causal : bidir, m.forward(batch, c ? Map.of() : Map.of("is_causal", false)))));
            }
            for (var f : fs) assertTrue(f.get());
        } finally {
            pool.shutdown();
        }
    }
}
