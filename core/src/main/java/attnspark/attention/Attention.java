package attnspark.attention;

import attnspark.tensor.FloatTensor;

import java.util.Map;

/** Helpers shared by the backends: kwargs conventions and mask conversions. */
public final class Attention {
    private Attention() {
    }

    /** kwargs "scaling" overrides the module's, as HF passes scaling=self.scaling per call. */
    static float scaling(AttentionModule module, Map<String, Object> kwargs) {
        Object s = kwargs == null ? null : kwargs.get("scaling");
        return s instanceof Number n ? n.floatValue() : module.scaling();
    }

    /** kwargs "is_causal" overrides module.isCausal() (sdpa, flash). */
    static boolean isCausal(AttentionModule module, Map<String, Object> kwargs) {
        Object c = kwargs == null ? null : kwargs.get("is_causal");
        return c instanceof Boolean b ? b : module.isCausal();
    }

    /** Additive (B, 1, Sq, Skv) form of whatever mask a formatter produced; null stays null. */
    static FloatTensor additiveMask(Object mask) {
        if (mask == null) return null;
        if (mask instanceof FloatTensor t) return t;
        if (mask instanceof BooleanMask m) {
            float[] add = new float[m.data().length];
            for (int i = 0; i < add.length; i++) add[i] = m.data()[i] ? 0f : MaskFormats.MIN_VALUE;
            return new FloatTensor(add, m.batch(), 1, m.qLength(), m.kvLength());
        }
        throw new IllegalArgumentException("this backend takes a dense 4-D mask (BooleanMask or additive FloatTensor), got "
                + mask.getClass().getSimpleName());
    }
}
