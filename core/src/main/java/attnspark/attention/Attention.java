package attnspark.attention;

import attnspark.tensor.FloatTensor;

import java.util.Map;

/** Helpers shared by the backends: kwargs conventions and mask conversions. */
public final class Attention {
    private Attention() {
    }

    /** kwargs "scaling" overrides the module's, as HF passes scaling=self.scaling per call. */
    public static float scaling(AttentionModule module, Map<String, Object> kwargs) {
        Object s = kwargs == null ? null : kwargs.get("scaling");
        return s instanceof Number n ? n.floatValue() : module.scaling();
    }

    /** kwargs "is_causal" overrides module.isCausal() (sdpa, flash). */
    public static boolean isCausal(AttentionModule module, Map<String, Object> kwargs) {
        Object c = kwargs == null ? null : kwargs.get("is_causal");
        return c instanceof Boolean b ? b : module.isCausal();
    }

    /**
     * The additive (B, 1, Sq, Skv) form of a dense mask, for the backends that add the mask to the
     * scores (eager, sdpa's math and efficient kernels); null stays null.
     */
    static AdditiveMask additiveMask(String backend, AttentionMask mask) {
        if (mask == null || mask instanceof AdditiveMask) return (AdditiveMask) mask;
        if (mask instanceof BooleanMask m) return AdditiveMask.of(m);
        throw AttentionMask.unsupported(backend, mask, DENSE_FORMS);
    }

    static final String DENSE_FORMS = "a dense (B, 1, Sq, Skv) BooleanMask or AdditiveMask, or null";

    /** kwargs "softcap" (Number > 0), 0 when absent: scores become softcap*tanh(s/softcap). */
    public static float softcap(Map<String, Object> kwargs) {
        Object o = kwargs == null ? null : kwargs.get("softcap");
        if (o == null) return 0f;
        if (!(o instanceof Number n)) throw new IllegalArgumentException("softcap must be a number, got " + o.getClass().getSimpleName());
        if (!(n.floatValue() > 0)) throw new IllegalArgumentException("softcap must be > 0, got " + n);
        return n.floatValue();
    }

    /** kwargs "s_aux" (float[H] or FloatTensor): one sink logit per query head, or null. */
    public static float[] sinks(Map<String, Object> kwargs, int H) {
        Object s = kwargs == null ? null : kwargs.get("s_aux");
        if (s == null) return null;
        float[] v;
        if (s instanceof float[] a) v = a;
        else if (s instanceof FloatTensor t) v = t.data;
        else throw new IllegalArgumentException("s_aux must be float[] or FloatTensor, got " + s.getClass().getSimpleName());
        if (v.length != H) throw new IllegalArgumentException("s_aux needs one logit per query head (" + H + "), got " + v.length);
        return v;
    }

    /** query (B, Hq, Sq, D), key (B, Hkv, Skv, D), value (B, Hkv, Skv, Dv) with Hq a multiple of Hkv. */
    public static void checkShapes(FloatTensor query, FloatTensor key, FloatTensor value) {
        if (query.rank() != 4 || key.rank() != 4 || value.rank() != 4) {
            throw new IllegalArgumentException("query, key and value must be 4-D (B, H, S, D), got " + query + ", " + key
                    + ", " + value);
        }
        int B = query.dim(0), H = query.dim(1), D = query.dim(3), Hkv = key.dim(1), Skv = key.dim(2);
        if (key.dim(0) != B || value.dim(0) != B || value.dim(1) != Hkv || value.dim(2) != Skv || key.dim(3) != D) {
            throw new IllegalArgumentException("incompatible shapes: query " + query + ", key " + key + ", value " + value);
        }
        if (Hkv < 1 || H % Hkv != 0) {
            throw new IllegalArgumentException("query heads (" + H + ") must be a multiple of key/value heads (" + Hkv + ")");
        }
    }
}
