package attnspark.attention;

import attnspark.tensor.FloatTensor;
import java.util.Map;
import java.util.Set;

/**
 * HF's attention function contract: {@code fn(module, query, key, value, attention_mask, **kwargs)}.
 * query (B, Hq, Sq, D); key/value (B, Hkv, Skv, D) with Hq a multiple of Hkv (GQA).
 * {@code mask} is what the mask formatter registered under the same name produced (null when
 * none is registered, or when the backend's own causal path is exact); a backend given a form it
 * cannot take fails with {@link AttentionMask#unsupported}.
 * {@code kwargs} is passed from the model's forward call unchanged.
 */
@FunctionalInterface
public interface AttentionFunction {
    AttentionOutput apply(
            AttentionModule module,
            FloatTensor query,
            FloatTensor key,
            FloatTensor value,
            AttentionMask mask,
            Map<String, Object> kwargs);

    /**
     * What this function computes exactly; the parity suite tests every claim and checks that the
     * rest is refused with a clear exception. Default: a backend that honours its formatter's mask
     * and raises on {@code softcap}/{@code s_aux}.
     */
    default Set<AttentionCapability> capabilities() {
        return AttentionCapability.maskedForward();
    }
}
