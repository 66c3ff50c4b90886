package attnspark.models;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.attention.AttentionFunction;
import attnspark.attention.EagerAttention;
import attnspark.attention.MaskFormats;
import attnspark.attention.dispatch.AttentionInterface;
import attnspark.attention.dispatch.AttentionMaskInterface;
import attnspark.models.llama.LlamaModel;
import attnspark.testutil.Shared;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** attn_implementation as str | dict over sub-configs (HF PreTrainedModel.set_attn_implementation and the recursive config setter; HF #40062). */
class AttnImplementationTest {
    static final int[][] IDS = {{1, 403, 407, 261, 378}, {1, 403, 407}};

    static TextVisionTestModel composite(String attn) {
        Path dir = Shared.stories260k();
        LlamaModel text = LlamaModel.fromPretrained(dir, "sdpa");
        LlamaModel vision = LlamaModel.fromPretrained(
                HfConfig.read(dir.resolve("config.json")).with("is_causal", false), dir, "sdpa");
        return new TextVisionTestModel(text, vision, attn);
    }

    static void assertBackends(TextVisionTestModel m, String top, String text, String vision) {
        assertEquals(top, m.attnImplementation(), "top level");
        assertEquals(text, m.text.attnImplementation(), "text_config");
        assertEquals(vision, m.vision.attnImplementation(), "vision_config");
    }

    @Test
    void stringAppliesToEverySubConfig() {
        TextVisionTestModel m = composite("eager");
        assertBackends(m, "eager", "eager", "eager");
        m.setAttnImplementation("sdpa");
        assertBackends(m, "sdpa", "sdpa", "sdpa");
    }

    @Test
    void dictSetsEachSubConfigAndMissingKeysKeepTheirValue() {
        // HF #40062, starting from all eager: the top level stays eager, vision becomes sdpa, text keeps eager
        TextVisionTestModel m = composite("eager");
        m.setAttnImplementation(Map.of("", "eager", "vision_config", "sdpa"));
        assertBackends(m, "eager", "eager", "sdpa");
        // and from all sdpa: only the named keys move
        TextVisionTestModel s = composite("sdpa");
        s.setAttnImplementation(Map.of("", "eager", "vision_config", "flex_attention"));
        assertBackends(s, "eager", "sdpa", "flex_attention");
    }

    @Test
    void hubKernelNameAtTheTopLevelReachesSubModels() {
        TextVisionTestModel m = composite("eager");
        m.setAttnImplementation("kernels-community/test-attn");
        assertBackends(m, "kernels-community/test-attn", "kernels-community/test-attn", "kernels-community/test-attn");
        m.setAttnImplementation(Map.of("vision_config", "kernels-community/test-attn:attention_alt"));
        assertEquals("kernels-community/test-attn:attention_alt", m.vision.attnImplementation());
    }

    @Test
    void textConfigOnlyChangesText() {
        TextVisionTestModel m = composite("eager");
        m.setAttnImplementation(Map.of("text_config", "sdpa"));
        assertBackends(m, "eager", "sdpa", "eager");
    }

    @Test
    void subModelDispatchesToItsOwnBackendWithoutReload() {
        AtomicInteger calls = new AtomicInteger();
        EagerAttention eager = new EagerAttention();
        AttentionFunction spy = (mod, q, k, v, mask, kw) -> {
            calls.incrementAndGet();
            return eager.apply(mod, q, k, v, mask, kw);
        };
        AttentionInterface.register("attnimpl_test_spy", spy);
        AttentionMaskInterface.register("attnimpl_test_spy", MaskFormats::eagerMask);
        TextVisionTestModel m = composite("eager");
        float[] reference = m.forward(new SequenceBatch(IDS), Map.of());
        m.setAttnImplementation(Map.of("vision_config", "attnimpl_test_spy"));
        float[] out = m.forward(new SequenceBatch(IDS), Map.of());
        // one call per vision layer and sequence: LlamaModel attends per sequence (batch invariance)
        assertEquals(m.vision.config.layers() * IDS.length, calls.get(), "only the vision layers ran the spy");
        assertArrayEquals(reference, out, 0f, "the spy is eager with eager's mask");
    }

    @Test
    void unknownKeyNamesTheValidKeysAndChangesNothing() {
        TextVisionTestModel m = composite("eager");
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> m.setAttnImplementation(Map.of("", "sdpa", "audio_config", "sdpa")));
        assertTrue(e.getMessage().contains("'audio_config'"), e.getMessage());
        assertTrue(e.getMessage().contains("text_config") && e.getMessage().contains("vision_config"), e.getMessage());
        assertBackends(m, "eager", "eager", "eager");
    }

    @Test
    void unknownBackendForASubConfigNamesTheKeyAndIsNotHalfApplied() {
        TextVisionTestModel m = composite("eager");
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> m.setAttnImplementation(Map.of("", "sdpa", "text_config", "sdpa", "vision_config", "nope")));
        assertTrue(e.getMessage().contains("\"nope\"") && e.getMessage().contains("vision_config"), e.getMessage());
        assertTrue(
                e.getMessage().contains("sdpa") && e.getMessage().contains("eager"),
                "lists the valid names: " + e.getMessage());
        assertBackends(m, "eager", "eager", "eager");
        // an unknown top-level name fails the same way, before anything changes
        assertThrows(
                IllegalArgumentException.class,
                () -> m.setAttnImplementation(Map.of("", "nope", "text_config", "sdpa")));
        assertBackends(m, "eager", "eager", "eager");
    }

    @Test
    void singleModelAcceptsOnlyTheTopLevelKey() {
        LlamaModel m = LlamaModel.fromPretrained(Shared.stories260k(), "sdpa");
        assertTrue(m.subModels().isEmpty());
        m.setAttnImplementation(Map.of("", "eager"));
        assertEquals("eager", m.attnImplementation());
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> m.setAttnImplementation(Map.of("text_config", "sdpa")));
        assertTrue(e.getMessage().contains("valid keys: []"), e.getMessage());
    }

    @Test
    void cliForm() {
        AttnImplementation a = AttnImplementation.parse("text_config=sdpa,=eager");
        assertFalse(a.isSingle());
        assertEquals("sdpa", a.forKey("text_config", "x"));
        assertEquals("eager", a.forKey("", "x"));
        assertEquals("x", a.forKey("vision_config", "x"));
        AttnImplementation single = AttnImplementation.parse("kernels-community/flash-attn2@main:fwd");
        assertTrue(single.isSingle());
        assertEquals("kernels-community/flash-attn2@main:fwd", single.forKey("vision_config", "x"));
        assertThrows(IllegalArgumentException.class, () -> AttnImplementation.parse("text_config=sdpa,eager"));
        assertThrows(IllegalArgumentException.class, () -> AttnImplementation.parse("a=sdpa,a=eager"));
        assertThrows(IllegalArgumentException.class, () -> AttnImplementation.parse("text_config="));
    }
}
