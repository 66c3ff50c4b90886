package attnspark.attention;

/**
 * What an attention function may read from the layer that calls it: HF passes the module
 * itself ({@code is_causal}, {@code num_key_value_groups}, {@code layer_idx}, {@code scaling},
 * {@code sliding_window}). Backends must not depend on anything else of the model.
 */
public interface AttentionModule {
    boolean isCausal();

    int layerIdx();

    /** n_heads / n_kv_heads; head h of the output reads kv head h / groups. */
    int numKeyValueGroups();

    /** Multiplier of q·k, usually 1/sqrt(head_dim). */
    float scaling();

    /** null when the layer has no sliding window. */
    default Integer slidingWindow() {
        return null;
    }

    static AttentionModule of(boolean causal, int layerIdx, int groups, float scaling) {
        return new AttentionModule() {
            public boolean isCausal() {
                return causal;
            }

            public int layerIdx() {
                return layerIdx;
            }

            public int numKeyValueGroups() {
                return groups;
            }

            public float scaling() {
                return scaling;
            }
        };
    }
}
