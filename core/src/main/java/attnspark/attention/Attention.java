package attnspark.attention;

import attnspark.tensor.FloatTensor;

/** Helpers shared by the backends: mask conversion and shape checks (kwargs: {@link AttentionKwargs}). */
public final class Attention {
    private Attention() {}

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

    /** query (B, Hq, Sq, D), key (B, Hkv, Skv, D), value (B, Hkv, Skv, Dv) with Hq a multiple of Hkv. */
    public static void checkShapes(FloatTensor query, FloatTensor key, FloatTensor value) {
        if (query.rank() != 4 || key.rank() != 4 || value.rank() != 4) {
            throw new IllegalArgumentException(
                    "query, key and value must be 4-D (B, H, S, D), got " + query + ", " + key + ", " + value);
        }
        int B = query.dim(0), H = query.dim(1), D = query.dim(3), Hkv = key.dim(1), Skv = key.dim(2);
        if (key.dim(0) != B || value.dim(0) != B || value.dim(1) != Hkv || value.dim(2) != Skv || key.dim(3) != D) {
            throw new IllegalArgumentException(
                    "incompatible shapes: query " + query + ", key " + key + ", value " + value);
        }
        if (Hkv < 1 || H % Hkv != 0) {
            throw new IllegalArgumentException(
                    "query heads (" + H + ") must be a multiple of key/value heads (" + Hkv + ")");
        }
    }
}
