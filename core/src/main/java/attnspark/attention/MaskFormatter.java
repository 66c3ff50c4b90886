package attnspark.attention;

/**
 * HF's mask interface entry: {@code (batch_size, q_length, kv_length, q_offset, kv_offset,
 * mask_function, attention_mask, allow_is_causal_skip, allow_is_bidirectional_skip, local_size)}
 * to whatever the backend of the same name consumes (or null to let it use its own causal path).
 */
@FunctionalInterface
public interface MaskFormatter {
    AttentionMask format(MaskRequest request);

    /**
     * @param paddingMask (B, >= kvOffset + kvLength) true = real token, or null when there is no padding
     * @param localSize   sliding window or chunk size, null if none
     */
    record MaskRequest(
            int batch,
            int qLength,
            int kvLength,
            int qOffset,
            int kvOffset,
            MaskFunction maskFunction,
            boolean[][] paddingMask,
            boolean allowIsCausalSkip,
            boolean allowIsBidirectionalSkip,
            Integer localSize) {
        /** The same request with the causal skip forbidden (eager always needs a materialised mask). */
        public MaskRequest withoutCausalSkip() {
            return new MaskRequest(
                    batch,
                    qLength,
                    kvLength,
                    qOffset,
                    kvOffset,
                    maskFunction,
                    paddingMask,
                    false,
                    allowIsBidirectionalSkip,
                    localSize);
        }
    }
}
