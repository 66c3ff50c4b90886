package attnspark.attention.hub;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.attention.AttentionFunction;
import attnspark.attention.AttentionModule;
import attnspark.attention.dispatch.AttentionInterface;
import attnspark.attention.dispatch.AttentionMaskInterface;
import attnspark.attention.paged.PagedAttention;
import attnspark.models.SequenceBatch;
import attnspark.models.llama.LlamaModel;
import attnspark.tensor.FloatTensor;
import attnspark.testutil.Shared;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Kernels from outside (HF integrations/hub_kernels.py load_and_register_attn_kernel): ServiceLoader discovery, trust, @rev, :function, paged|. */
class HubKernelsTest {
    static final int[][] IDS = {{1, 403, 407, 261, 378}, {1, 403, 407}};
    static final String TEST_ATTN = "kernels-community/test-attn";

    static float[] eagerReference() {
        return LlamaModel.fromPretrained(Shared.stories260k(), "eager").forward(new SequenceBatch(IDS), Map.of());
    }

    @Test
    void kernelNameOnARealModelRunsTheKernelAndMatchesEager() {
        float[] eager = eagerReference();
        LlamaModel m = LlamaModel.fromPretrained(Shared.stories260k(), TEST_ATTN);
        assertEquals(TEST_ATTN, m.attnImplementation());
        int before = TestAttnKernel.MAIN_CALLS.get();
        float[] out = m.forward(new SequenceBatch(IDS), Map.of());
        // LlamaModel attends per sequence (B = 1) so a document's bits do not depend on its batch
        assertEquals(
                m.config.layers() * IDS.length,
                TestAttnKernel.MAIN_CALLS.get() - before,
                "one kernel call per layer and sequence");
        // the kernel delegates to eager with eager's mask: bit-identical
        assertArrayEquals(eager, out, 0f);
        assertTrue(AttentionInterface.ALL.containsGlobal(TEST_ATTN), "registered under the exact user string");
        assertTrue(
                AttentionMaskInterface.ALL.containsGlobal(TEST_ATTN),
                "with a mask formatter, else the mask would be null");
    }

    @Test
    void switchingToAKernelAtRunTimeNeedsNoReload() {
        LlamaModel m = LlamaModel.fromPretrained(Shared.stories260k(), "sdpa");
        float[] eager = eagerReference();
        m.setAttnImplementation(TEST_ATTN + ":attention_alt");
        int before = TestAttnKernel.ALT_CALLS.get();
        assertArrayEquals(eager, m.forward(new SequenceBatch(IDS), Map.of()), 0f);
        assertEquals(m.config.layers() * IDS.length, TestAttnKernel.ALT_CALLS.get() - before);
    }

    @Test
    void untrustedNamespaceNeedsAllowAll() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> HubKernels.loadAndRegister("other-org/x", false, null));
        assertTrue(
                e.getMessage().startsWith("An error occurred while trying to load from 'other-org/x': "),
                e.getMessage());
        assertTrue(e.getMessage().contains("not in the trusted namespace kernels-community"), e.getMessage());
        assertTrue(
                e.getMessage().contains("allowAllKernels=true")
                        && e.getMessage().contains("--allow-all-kernels"),
                e.getMessage());
        assertNotNull(HubKernels.loadAndRegister("other-org/x", true, null));
        assertTrue(AttentionInterface.ALL.containsGlobal("other-org/x"));
    }

    @Test
    void trustIsCheckedOnEveryModelSetEvenWhenAlreadyRegistered() {
        HubKernels.loadAndRegister("other-org/x", true, null);
        LlamaModel m = LlamaModel.fromPretrained(Shared.stories260k(), "sdpa");
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> m.setAttnImplementation("other-org/x"));
        assertTrue(e.getMessage().contains("trusted namespace"), e.getMessage());
        assertEquals("sdpa", m.attnImplementation(), "a refused switch changes nothing");
        m.setKernelSource(new KernelSource(null, true));
        m.setAttnImplementation("other-org/x");
        assertEquals("other-org/x", m.attnImplementation());
        // the kernel source in scope at construction is the model's (HF's allow_all_hub_kernels around from_pretrained)
        LlamaModel scoped = HubKernels.withSource(
                new KernelSource(null, true), () -> LlamaModel.fromPretrained(Shared.stories260k(), "other-org/x"));
        assertEquals("other-org/x", scoped.attnImplementation());
        assertFalse(HubKernels.currentSource().allowAllKernels(), "the scope is restored");
    }

    @Test
    void explicitlyTrustedRepoLoadsWithoutAllowAll() {
        assertThrows(IllegalArgumentException.class, () -> HubKernels.loadAndRegister("partner-org/attn", false, null));
        HubKernels.trust("partner-org/attn");
        assertTrue(HubKernels.isTrusted("partner-org/attn"));
        assertFalse(HubKernels.isTrusted("partner-org/other"));
        assertNotNull(HubKernels.loadAndRegister("partner-org/attn@main", false, null));
    }

    @Test
    void revisionMustExist() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> HubKernels.loadAndRegister(TEST_ATTN + "@v9", false, null));
        assertTrue(
                e.getMessage().startsWith("An error occurred while trying to load from '" + TEST_ATTN + "': "),
                e.getMessage());
        assertTrue(e.getMessage().contains("revision 'v9'"), e.getMessage());
        assertTrue(
                e.getMessage().contains("main") && e.getMessage().contains("v2"),
                "lists the revisions that exist: " + e.getMessage());
    }

    @Test
    void revisionSelectsThatKernelAndIsPartOfTheRegistryKey() {
        AttentionFunction v2 = HubKernels.loadAndRegister(TEST_ATTN + "@v2", false, null);
        AttentionFunction main = HubKernels.loadAndRegister(TEST_ATTN + "@main", false, null);
        FloatTensor t = FloatTensor.zeros(1, 1, 2, 4);
        AttentionModule mod = AttentionModule.of(true, 0, 1, 0.5f);
        int v2Before = TestAttnKernel.V2.CALLS.get(), mainBefore = TestAttnKernel.MAIN_CALLS.get();
        v2.apply(mod, t, t, t, null, Map.of());
        assertEquals(1, TestAttnKernel.V2.CALLS.get() - v2Before);
        assertEquals(0, TestAttnKernel.MAIN_CALLS.get() - mainBefore);
        main.apply(mod, t, t, t, null, Map.of());
        assertEquals(1, TestAttnKernel.MAIN_CALLS.get() - mainBefore);
        assertSame(v2, AttentionInterface.ALL.get(TEST_ATTN + "@v2"));
    }

    @Test
    void functionSelection() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> HubKernels.loadAndRegister(TEST_ATTN + ":nope", false, null));
        assertTrue(
                e.getMessage().contains("no function 'nope'") && e.getMessage().contains("[attention, attention_alt]"),
                e.getMessage());
        AttentionFunction alt = HubKernels.loadAndRegister(TEST_ATTN + "@main:attention_alt", false, null);
        int before = TestAttnKernel.ALT_CALLS.get();
        FloatTensor t = FloatTensor.zeros(1, 1, 2, 4);
        alt.apply(AttentionModule.of(true, 0, 1, 0.5f), t, t, t, null, Map.of());
        assertEquals(1, TestAttnKernel.ALT_CALLS.get() - before);
    }

    @Test
    void pagedPrefixWrapsTheKernelInPagedAttention() {
        String name = "paged|" + TEST_ATTN;
        AttentionFunction fn = HubKernels.loadAndRegister(name, false, null);
        assertInstanceOf(PagedAttention.class, fn);
        assertEquals(name, ((PagedAttention) fn).name());
        assertSame(fn, AttentionInterface.ALL.get(name));
        // like paged|sdpa: no formatter (the cache positions are the mask), and no cache -> raises (HF #48296, fixed in
        // PR #48297)
        assertFalse(AttentionMaskInterface.ALL.containsGlobal(name));
        FloatTensor t = FloatTensor.zeros(1, 1, 2, 4);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> fn.apply(AttentionModule.of(true, 0, 1, 0.5f), t, t, t, null, Map.of()));
        assertTrue(e.getMessage().contains("PagedKvCache"), e.getMessage());
    }

    @Test
    void notFoundListsWhatWasFoundAndWhere() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> HubKernels.loadAndRegister("kernels-community/nope", false, null));
        assertTrue(
                e.getMessage().startsWith("An error occurred while trying to load from 'kernels-community/nope': "),
                e.getMessage());
        assertTrue(e.getMessage().contains(TEST_ATTN + "@main"), e.getMessage());
        assertTrue(e.getMessage().contains("class path") && e.getMessage().contains("--kernels-dir"), e.getMessage());
    }

    @Test
    void malformedNameIsRejectedBeforeAnyLookup() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> HubKernels.loadAndRegister("https://hf.co/a/b", true, null));
        assertTrue(e.getMessage().contains("Valid forms"), e.getMessage());
    }

    @Test
    void missingKernelsDirIsALoadError() {
        Path missing = Path.of("target", "no-such-kernels-dir");
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> HubKernels.loadAndRegister("kernels-community/nope", false, missing));
        assertTrue(e.getMessage().contains("no-such-kernels-dir"), e.getMessage());
    }
}
