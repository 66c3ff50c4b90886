package attnspark.attention;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.attention.dispatch.AttentionInterface;
import attnspark.attention.dispatch.AttentionMaskInterface;
import attnspark.attention.dispatch.Masks;
import attnspark.attention.paged.PagedAttention;
import attnspark.models.SequenceBatch;
import attnspark.models.llama.LlamaModel;
import attnspark.testutil.Shared;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class RegistryTest {
    @Test
    void globalRegistrationIsSeenByEveryInstanceLocalOverrideIsNot() {
        AttentionFunction custom = (m, q, k, v, mask, kw) -> null;
        AttentionInterface a = new AttentionInterface(), b = new AttentionInterface();
        AttentionInterface.register("registry_test_global", custom);
        assertSame(custom, a.get("registry_test_global"));
        assertSame(custom, new AttentionInterface().get("registry_test_global"));
        AttentionFunction local = (m, q, k, v, mask, kw) -> null;
        a.put("sdpa", local);
        assertSame(local, a.get("sdpa"));
        assertNotSame(local, b.get("sdpa"));
        assertTrue(a.validKeys().contains("registry_test_global"));
        assertThrows(IllegalArgumentException.class, () -> b.remove("sdpa"), "deleting a global-only key raises");
    }

    @Test
    void unknownNameListsValidNames() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> AttentionInterface.ALL.get("flashy"));
        assertTrue(e.getMessage().contains("'flashy'"));
        assertTrue(e.getMessage().contains("eager") && e.getMessage().contains("sdpa"), e.getMessage());
    }

    @Test
    void functionWithoutMaskFormatterReceivesNullMask() {
        AtomicReference<Object> seen = new AtomicReference<>("unset");
        AttentionInterface.register("registry_test_nomask", (m, q, k, v, mask, kw) -> {
            seen.set(mask);
            return new AttentionOutput(q, null);
        });
        AttentionMask mask = Masks.createCausalMask(
                Masks.MaskInputs.of("registry_test_nomask", 1, 3, new boolean[][] {{false, true, true}}));
        assertNull(mask, "no formatter registered: the function gets no mask, as in HF");
        // registering sdpa's formatter under the same name restores the causal mask
        AttentionMaskInterface.register("registry_test_nomask", MaskFormats::sdpaMask);
        assertNotNull(Masks.createCausalMask(
                Masks.MaskInputs.of("registry_test_nomask", 1, 3, new boolean[][] {{false, true, true}})));
    }

    @Test
    void localMaskOverrideIsInvisibleToTheGlobalCheck() {
        AttentionMaskInterface local = new AttentionMaskInterface();
        local.put("registry_test_localmask", MaskFormats::sdpaMask);
        Masks.MaskInputs in =
                Masks.MaskInputs.of("registry_test_localmask", 1, 3, null).withMaskInterface(local);
        assertNull(Masks.createCausalMask(in));
    }

    /** A model's forward hands its kwargs to the registered function of every layer, unchanged (HF **kwargs). */
    @Test
    void kwargsReachTheRegisteredFunctionThroughAModelForward() {
        List<Object> seen = new CopyOnWriteArrayList<>();
        EagerAttention eager = new EagerAttention();
        AttentionInterface.register("registry_test_kwargs", (m, q, k, v, mask, kw) -> {
            seen.add(kw.get("my_key"));
            return eager.apply(m, q, k, v, mask, kw);
        });
        AttentionMaskInterface.register("registry_test_kwargs", MaskFormats::eagerMask);
        SequenceBatch batch = new SequenceBatch(new int[][] {{1, 403, 407, 261, 378}});
        LlamaModel spy = LlamaModel.fromPretrained(Shared.stories260k(), "registry_test_kwargs");
        float[] got = spy.forward(batch, Map.of("my_key", 42));
        assertEquals(
                Collections.nCopies(spy.config.layers(), 42),
                seen,
                "one call per layer, each with the caller's kwargs");
        float[] want = LlamaModel.fromPretrained(Shared.stories260k(), "eager").forward(batch, Map.of());
        assertArrayEquals(want, got, "the registered function's output is what the model used");
    }

    /** valid_keys is the union, and a local key belongs to its instance only. */
    @Test
    void validKeysAreTheUnionOfGlobalAndThisInstancesLocalKeys() {
        AttentionInterface a = new AttentionInterface(), b = new AttentionInterface();
        a.put("registry_test_local_only", (m, q, k, v, mask, kw) -> null);
        assertTrue(a.validKeys().contains("registry_test_local_only"));
        assertTrue(a.validKeys().containsAll(b.validKeys()), "every global key is visible locally too");
        assertFalse(b.validKeys().contains("registry_test_local_only"));
        assertFalse(AttentionInterface.ALL.contains("registry_test_local_only"));
        assertThrows(IllegalArgumentException.class, () -> b.get("registry_test_local_only"));
        a.remove("registry_test_local_only");
        assertFalse(a.validKeys().contains("registry_test_local_only"));
    }

    /** HF raises KeyError for unknown names and returns the default for None; here both fail loudly. */
    @Test
    void unknownAndNullNamesFailWithTheValidNames() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> AttentionInterface.ALL.get("flashy"));
        assertTrue(e.getMessage().startsWith("'flashy' is not a registered attention implementation."), e.getMessage());
        assertTrue(e.getMessage().contains("AttentionInterface.register"), "says what to do next: " + e.getMessage());
        IllegalArgumentException n =
                assertThrows(IllegalArgumentException.class, () -> AttentionInterface.ALL.get(null));
        assertTrue(n.getMessage().contains("null") && n.getMessage().contains("sdpa"), n.getMessage());
    }

    /** The paged| prefix is stripped and the base name decides validity. */
    @Test
    void pagedPrefixIsValidIffTheBaseIs() {
        assertEquals(new AttentionInterface.Split(true, "x"), AttentionInterface.split("paged|x"));
        assertEquals(new AttentionInterface.Split(false, "sdpa"), AttentionInterface.split("sdpa"));
        assertEquals(new AttentionInterface.Split(false, null), AttentionInterface.split(null));
        assertNotNull(AttentionInterface.ALL.get("paged|sdpa"));
        assertNotNull(AttentionInterface.ALL.get("paged|eager"));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> AttentionInterface.ALL.get("paged|nope"));
        assertTrue(e.getMessage().contains("'paged|nope'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AttentionInterface.ALL.get("paged|paged|sdpa"));
        // a newly registered base gets its paged form for free
        AttentionInterface.register("registry_test_paged_base", new EagerAttention());
        AttentionFunction paged = AttentionInterface.ALL.get("paged|registry_test_paged_base");
        assertInstanceOf(PagedAttention.class, paged);
        assertEquals("paged|registry_test_paged_base", ((PagedAttention) paged).name());
        assertNull(
                AttentionMaskInterface.ALL.lookup("paged|registry_test_paged_base"),
                "paged names have no mask formatter");
    }
}
