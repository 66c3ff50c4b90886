package attnspark.attention;

import java.util.EnumSet;
import java.util.Set;

/**
 * What an attention backend promises to compute exactly (see {@link AttentionFunction#capabilities()}).
 * The registry-driven parity suite runs every case of a claimed capability against a float64
 * reference, and checks that a backend refuses, with an exception that says why, the cases of a
 * capability it does not claim.
 */
public enum AttentionCapability {
    /**
     * A plain forward with the mask the backend's formatter built (or null): causal and
     * bidirectional, GQA/MQA, left or right padding, fully masked rows, a KV past (decode), any length.
     */
    MASKED,
    /** Packed sequences in one row: position_ids that restart (HF find_packed_sequence_indices). */
    PACKED,
    /** Sliding-window causal attention: key visible iff {@code q - w < kv <= q}. */
    SLIDING_WINDOW,
    /** Chunked causal attention (Llama 4 {@code attention_chunk_size}): same chunk and causal. */
    CHUNKED,
    /** kwargs {@code softcap}: scores become {@code softcap * tanh(s / softcap)} before the mask. */
    SOFTCAP,
    /** kwargs {@code s_aux}: one sink logit per query head joins the softmax denominator only. */
    SINKS,
    /**
     * A paged backend: takes the step's new tokens and a {@code PagedKvCache} in kwargs, builds its
     * causal mask from the cache positions and refuses a plain call (HF's {@code paged|*} names).
     */
    PAGED;

    /** What a backend that honours its formatter's mask supports without extra kwargs. */
    public static Set<AttentionCapability> maskedForward() {
        return EnumSet.of(MASKED, PACKED, SLIDING_WINDOW, CHUNKED);
    }
}
