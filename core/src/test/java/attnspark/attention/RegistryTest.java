package attnspark.attention;

import attnspark.tensor.FloatTensor;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

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
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AttentionInterface.ALL.get("flashy"));
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
        Object mask = Masks.createCausalMask(Masks.MaskInputs.of("registry_test_nomask", 1, 3,
                new boolean[][]{{false, true, true}}));
        assertNull(mask, "no formatter registered: the function gets no mask, as in HF");
        // registering sdpa's formatter under the same name restores the causal mask
        AttentionMaskInterface.register("registry_test_nomask", MaskFormats::sdpaMask);
        assertNotNull(Masks.createCausalMask(Masks.MaskInputs.of("registry_test_nomask", 1, 3,
                new boolean[][]{{false, true, true}})));
    }

    @Test
    void localMaskOverrideIsInvisibleToTheGlobalCheck() {
        AttentionMaskInterface local = new AttentionMaskInterface();
        local.put("registry_test_localmask", MaskFormats::sdpaMask);
        Masks.MaskInputs in = new Masks.MaskInputs("registry_test_localmask", local, 1, 3, null, null, 0, true, null, null, null);
        assertNull(Masks.createCausalMask(in));
    }

    @Test
    void kwargsReachTheFunction() {
        AtomicReference<Object> seen = new AtomicReference<>();
        AttentionFunction fn = (m, q, k, v, mask, kw) -> {
            seen.set(kw.get("my_key"));
            return new AttentionOutput(q, null);
        };
        FloatTensor t = FloatTensor.zeros(1, 1, 1, 1);
        fn.apply(AttentionModule.of(true, 0, 1, 1f), t, t, t, null, Map.of("my_key", 42));
        assertEquals(42, seen.get());
    }

    /** §6 row 1: valid_keys is the union, and a local key belongs to its instance only. */
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

    /** §6 row 2: HF raises KeyError for unknown names and returns the default for None; here both fail loudly. */
    @Test
    void unknownAndNullNamesFailWithTheValidNames() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AttentionInterface.ALL.get("flashy"));
        assertTrue(e.getMessage().startsWith("'flashy' is not a registered attention implementation."), e.getMessage());
        assertTrue(e.getMessage().contains("AttentionInterface.register"), "says what to do next: " + e.getMessage());
        IllegalArgumentException n = assertThrows(IllegalArgumentException.class, () -> AttentionInterface.ALL.get(null));
        assertTrue(n.getMessage().contains("null") && n.getMessage().contains("sdpa"), n.getMessage());
    }

    /** §6 row 5: the paged| prefix is stripped and the base name decides validity. */
    @Test
    void pagedPrefixIsValidIffTheBaseIs() {
        assertEquals(new AttentionInterface.Split(true, "x"), AttentionInterface.split("paged|x"));
        assertEquals(new AttentionInterface.Split(false, "sdpa"), AttentionInterface.split("sdpa"));
        assertEquals(new AttentionInterface.Split(false, null), AttentionInterface.split(null));
        assertNotNull(AttentionInterface.ALL.get("paged|sdpa"));
        assertNotNull(AttentionInterface.ALL.get("paged|eager"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AttentionInterface.ALL.get("paged|nope"));
        assertTrue(e.getMessage().contains("'paged|nope'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AttentionInterface.ALL.get("paged|paged|sdpa"));
        // a newly registered base gets its paged form for free
        AttentionInterface.register("registry_test_paged_base", new EagerAttention());
        AttentionFunction paged = AttentionInterface.ALL.get("paged|registry_test_paged_base");
        assertInstanceOf(attnspark.attention.paged.PagedAttention.class, paged);
        assertEquals("paged|registry_test_paged_base", ((attnspark.attention.paged.PagedAttention) paged).name());
        assertNull(AttentionMaskInterface.ALL.lookup("paged|registry_test_paged_base"), "paged names have no mask formatter");
    }
}
