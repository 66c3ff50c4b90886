package attnspark.attention;

import attnspark.tensor.FloatTensor;
import java.util.HashMap;
import java.util.Map;

/**
 * The attention kwargs: HF passes {@code **kwargs} from the model's forward to the attention
 * function unchanged, so they travel as a {@code Map<String, Object>}. Every key a backend or
 * model of this project reads is named here once, and read through the typed readers below; a
 * value of the wrong type fails naming the key, the type expected and the type found.
 * A null map is the same as an empty one.
 */
public final class AttentionKwargs {
    private AttentionKwargs() {}

    // ---- every backend (HF passes them per call) ----

    /** Number: multiplier of q·k; overrides {@link AttentionModule#scaling()}. */
    public static final String SCALING = "scaling";
    /** Boolean: overrides {@link AttentionModule#isCausal()} (sdpa, flash, paged; the Llama model's bidirectional mode). */
    public static final String IS_CAUSAL = "is_causal";
    /** Number: sliding window in tokens; overrides {@link AttentionModule#slidingWindow()} (flash, paged). */
    public static final String SLIDING_WINDOW = "sliding_window";
    /** Number &gt; 0: gemma2's logit softcap, {@code softcap * tanh(s / softcap)} on the scaled scores. */
    public static final String SOFTCAP = "softcap";
    /** float[] or FloatTensor: gpt-oss's attention sinks, one logit per query head. */
    public static final String S_AUX = "s_aux";
    /** Number: attention dropout probability; the inference-only backends refuse a value &gt; 0. */
    public static final String DROPOUT = "dropout";

    // ---- flex attention ----

    /** {@code attnspark.attention.flex.ScoreMod}: applied to every score after softcap and the score mask. */
    public static final String SCORE_MOD = "score_mod";

    // ---- flash varlen (HF's flash_attention_forward) ----

    /** int[][] (B, S): positions; a packed row (B == 1) restarts wherever a position is not the previous + 1. */
    public static final String POSITION_IDS = "position_ids";
    /** int[]: cumulative query starts of the packed sequences, first 0, last the token count. */
    public static final String CU_SEQ_LENS_Q = "cu_seq_lens_q";
    /** int[]: cumulative key starts of the packed sequences. */
    public static final String CU_SEQ_LENS_K = "cu_seq_lens_k";
    /** Number: the longest query sequence; HF's older name is {@link #MAX_SEQLEN_Q}. */
    public static final String MAX_LENGTH_Q = "max_length_q";

    public static final String MAX_LENGTH_K = "max_length_k";
    public static final String MAX_SEQLEN_Q = "max_seqlen_q";
    public static final String MAX_SEQLEN_K = "max_seqlen_k";

    // ---- paged attention (HF's continuous batching) ----

    /** {@code attnspark.cache.PagedKvCache}: the cache a paged backend writes to and reads from. */
    public static final String CACHE = "cache";
    /** int[B]: the cache sequence of each batch row. */
    public static final String SEQ_IDS = "seq_ids";
    /** Number: the layer whose cache is used; overrides {@link AttentionModule#layerIdx()}. */
    public static final String LAYER_IDX = "layer_idx";
    /** int[B]: real new tokens per row when rows are right-padded. */
    public static final String QUERY_LENGTHS = "query_lengths";
    /** int[B]: per row, the first cached position attended (a sliding context). */
    public static final String KV_START = "kv_start";

    // ---- typed readers ----

    /** {@link #SCALING}, else the module's; without either it fails. */
    public static float scaling(AttentionModule module, Map<String, Object> kwargs) {
        Number s = get(kwargs, SCALING, Number.class);
        if (s != null) return s.floatValue();
        if (module == null)
            throw new IllegalArgumentException("no scaling: pass kwargs \"" + SCALING + "\" or a module");
        return module.scaling();
    }

    /** {@link #IS_CAUSAL}, else {@code fallback}. */
    public static boolean isCausal(Map<String, Object> kwargs, boolean fallback) {
        Boolean c = get(kwargs, IS_CAUSAL, Boolean.class);
        return c != null ? c : fallback;
    }

    /** {@link #IS_CAUSAL}, else the module's. */
    public static boolean isCausal(AttentionModule module, Map<String, Object> kwargs) {
        Boolean c = get(kwargs, IS_CAUSAL, Boolean.class);
        return c != null ? c : module.isCausal();
    }

    /** A copy of {@code kwargs} (or a new map) with {@link #IS_CAUSAL} set. */
    public static Map<String, Object> withCausal(Map<String, Object> kwargs, boolean causal) {
        Map<String, Object> m = kwargs == null ? new HashMap<>() : new HashMap<>(kwargs);
        m.put(IS_CAUSAL, causal);
        return m;
    }

    /** {@link #SLIDING_WINDOW}, else the module's (null when neither has one). */
    public static Integer slidingWindow(AttentionModule module, Map<String, Object> kwargs) {
        Number w = get(kwargs, SLIDING_WINDOW, Number.class);
        return w != null ? Integer.valueOf(w.intValue()) : module.slidingWindow();
    }

    /** {@link #LAYER_IDX}, else the module's. */
    public static int layerIdx(AttentionModule module, Map<String, Object> kwargs) {
        Number l = get(kwargs, LAYER_IDX, Number.class);
        return l != null ? l.intValue() : module.layerIdx();
    }

    /** {@link #SOFTCAP} (&gt; 0), or 0 when absent. */
    public static float softcap(Map<String, Object> kwargs) {
        Number n = get(kwargs, SOFTCAP, Number.class);
        if (n == null) return 0f;
        if (!(n.floatValue() > 0)) throw new IllegalArgumentException("softcap must be > 0, got " + n);
        return n.floatValue();
    }

    /** {@link #S_AUX}: one sink logit per query head ({@code heads} of them), or null. */
    public static float[] sinks(Map<String, Object> kwargs, int heads) {
        Object s = kwargs == null ? null : kwargs.get(S_AUX);
        if (s == null) return null;
        float[] v;
        if (s instanceof float[] a) v = a;
        else if (s instanceof FloatTensor t) v = t.data;
        else
            throw new IllegalArgumentException(
                    "s_aux must be float[] or FloatTensor, got " + s.getClass().getSimpleName());
        if (v.length != heads) {
            throw new IllegalArgumentException("s_aux needs one logit per query head (" + heads + "), got " + v.length);
        }
        return v;
    }

    /** {@link #DROPOUT}, or 0 when absent. */
    public static double dropout(Map<String, Object> kwargs) {
        Number d = get(kwargs, DROPOUT, Number.class);
        return d == null ? 0 : d.doubleValue();
    }

    /** {@link #POSITION_IDS}, or null. */
    public static int[][] positionIds(Map<String, Object> kwargs) {
        return get(kwargs, POSITION_IDS, int[][].class);
    }

    /** An int[] kwarg ({@link #CU_SEQ_LENS_Q}, {@link #SEQ_IDS}, ...), or null when absent. */
    public static int[] ints(Map<String, Object> kwargs, String key) {
        return get(kwargs, key, int[].class);
    }

    /** A Number kwarg as an int under {@code key}, else under its older name {@code alias}; null when neither. */
    public static Integer intOrAlias(Map<String, Object> kwargs, String key, String alias) {
        Number n = get(kwargs, key, Number.class);
        if (n == null) n = get(kwargs, alias, Number.class);
        return n == null ? null : n.intValue();
    }

    /** The value under {@code key} as a {@code type}, null when absent; another type fails naming the key. */
    public static <T> T get(Map<String, Object> kwargs, String key, Class<T> type) {
        Object o = kwargs == null ? null : kwargs.get(key);
        if (o == null) return null;
        if (!type.isInstance(o)) {
            throw new IllegalArgumentException("kwargs \"" + key + "\" must be " + type.getSimpleName() + ", got "
                    + o.getClass().getSimpleName() + " (" + o + ")");
        }
        return type.cast(o);
    }
}
