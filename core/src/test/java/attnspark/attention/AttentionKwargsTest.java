package attnspark.attention;

import static org.junit.jupiter.api.Assertions.*;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The typed kwargs readers: the per-call value wins, the module is the fallback, a wrong type names the key. */
class AttentionKwargsTest {
    private static final AttentionModule MODULE = new AttentionModule() {
        public boolean isCausal() {
            return true;
        }

        public int layerIdx() {
            return 3;
        }

        public int numKeyValueGroups() {
            return 1;
        }

        public float scaling() {
            return 0.25f;
        }

        public Integer slidingWindow() {
            return 8;
        }
    };

    @Test
    void absentKeysFallBackToTheModule() {
        for (Map<String, Object> none : new Map[] {null, Map.of()}) {
            assertEquals(0.25f, AttentionKwargs.scaling(MODULE, none));
            assertTrue(AttentionKwargs.isCausal(MODULE, none));
            assertEquals(8, AttentionKwargs.slidingWindow(MODULE, none));
            assertEquals(3, AttentionKwargs.layerIdx(MODULE, none));
            assertEquals(0f, AttentionKwargs.softcap(none));
            assertNull(AttentionKwargs.sinks(none, 2));
            assertEquals(0.0, AttentionKwargs.dropout(none));
            assertNull(AttentionKwargs.positionIds(none));
        }
    }

    @Test
    void perCallValuesOverrideTheModule() {
        Map<String, Object> kw = Map.of(
                "scaling",
                2,
                "is_causal",
                false,
                "sliding_window",
                4L,
                "layer_idx",
                1,
                "softcap",
                30.0,
                "s_aux",
                new float[] {1f, 2f},
                "dropout",
                0.5f,
                "max_seqlen_q",
                7);
        assertEquals(2f, AttentionKwargs.scaling(MODULE, kw));
        assertFalse(AttentionKwargs.isCausal(MODULE, kw));
        assertEquals(4, AttentionKwargs.slidingWindow(MODULE, kw));
        assertEquals(1, AttentionKwargs.layerIdx(MODULE, kw));
        assertEquals(30f, AttentionKwargs.softcap(kw));
        assertArrayEquals(new float[] {1f, 2f}, AttentionKwargs.sinks(kw, 2));
        assertEquals(0.5, AttentionKwargs.dropout(kw));
        assertEquals(7, AttentionKwargs.intOrAlias(kw, "max_length_q", "max_seqlen_q"));
    }

    @Test
    void wrongTypeNamesTheKeyAndBothTypes() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> AttentionKwargs.isCausal(MODULE, Map.of("is_causal", "yes")));
        assertEquals("kwargs \"is_causal\" must be Boolean, got String (yes)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> AttentionKwargs.ints(Map.of("seq_ids", 3), "seq_ids"));
        assertTrue(e.getMessage().startsWith("kwargs \"seq_ids\" must be int[], got Integer"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AttentionKwargs.softcap(Map.of("softcap", -1f)));
        assertThrows(IllegalArgumentException.class, () -> AttentionKwargs.sinks(Map.of("s_aux", new float[] {1f}), 2));
    }

    @Test
    void withCausalCopiesAndLeavesTheCallersMapAlone() {
        Map<String, Object> mine = new HashMap<>(Map.of("scaling", 1f));
        Map<String, Object> kw = AttentionKwargs.withCausal(mine, false);
        assertEquals(Map.of("scaling", 1f, "is_causal", false), kw);
        assertEquals(Map.of("scaling", 1f), mine);
    }
}
