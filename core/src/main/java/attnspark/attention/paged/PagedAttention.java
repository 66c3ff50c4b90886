package attnspark.attention.paged;

import attnspark.attention.AttentionCapability;
import attnspark.attention.AttentionFunction;
import attnspark.attention.AttentionKwargs;
import attnspark.attention.AttentionMask;
import attnspark.attention.AttentionModule;
import attnspark.attention.AttentionOutput;
import attnspark.attention.BooleanMask;
import attnspark.attention.EagerAttention;
import attnspark.attention.SdpaAttention;
import attnspark.cache.PagedKvCache;
import attnspark.tensor.FloatTensor;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * HF's {@code paged|eager} / {@code paged|sdpa}: the model hands over only the current step's
 * query/key/value (the new tokens); this function writes the new key/value into the
 * {@link PagedKvCache}, gathers each sequence's whole history back, and runs the base backend
 * (eager or sdpa) over it with a mask it builds itself. Paged names have no mask formatter, so
 * the model passes {@code mask == null}; causality comes from the cache positions: new query
 * {@code i} of a row sits at absolute position {@code past + i} and sees keys at
 * {@code <= past + i} (bottom-right alignment, as HF's CB {@code build_attention_mask}).
 *
 * <p>kwargs:
 * <ul>
 *   <li>{@code "cache"} ({@link PagedKvCache}, required; without it: IllegalArgumentException, as HF raises since PR #48297)</li>
 *   <li>{@code "seq_ids"} (int[] of length B, required): the cache sequence of each batch row</li>
 *   <li>{@code "layer_idx"} (Integer, optional; default {@code module.layerIdx()})</li>
 *   <li>{@code "query_lengths"} (int[], optional): real new tokens per row when rows are
 *       right-padded to Sq; padded query rows are not written and give zero output</li>
 *   <li>{@code "kv_start"} (int[], optional): per row, the first cached position attended
 *       (a sliding context, as the Llama WindowedScorer keeps); default 0</li>
 *   <li>{@code "is_causal"} (Boolean, optional; default {@code module.isCausal()}); false lets
 *       every new token see all new tokens too</li>
 *   <li>{@code "sliding_window"} (Integer, optional; default {@code module.slidingWindow()}):
 *       key visible iff {@code kv > q - w} as well; null or &lt;= 1 means none (as HF continuous_batching/utils.py build_attention_mask)</li>
 *   <li>{@code "scaling"} is passed through to the base backend</li>
 * </ul>
 * Before writing, the function grows each sequence's block table as needed, so
 * {@link PagedKvCache.OutOfPagesException} can surface from a forward.
 */
public final class PagedAttention implements AttentionFunction {
    private final String name;
    private final AttentionFunction base;

    public PagedAttention(String name, AttentionFunction base) {
        this.name = name;
        this.base = base;
    }

    /** {@code paged|eager}. */
    public static PagedAttention eager() {
        return new PagedAttention("paged|eager", new EagerAttention());
    }

    /** {@code paged|sdpa}. */
    public static PagedAttention sdpa() {
        return new PagedAttention("paged|sdpa", new SdpaAttention());
    }

    public String name() {
        return name;
    }

    /** Causal (optionally windowed) attention over the cache, plus the base's softcap/sinks, which it passes on. */
    @Override
    public Set<AttentionCapability> capabilities() {
        Set<AttentionCapability> caps = EnumSet.of(AttentionCapability.PAGED, AttentionCapability.SLIDING_WINDOW);
        for (AttentionCapability c :
                new AttentionCapability[] {AttentionCapability.SOFTCAP, AttentionCapability.SINKS}) {
            if (base.capabilities().contains(c)) caps.add(c);
        }
        return caps;
    }

    @Override
    public AttentionOutput apply(
            AttentionModule module,
            FloatTensor query,
            FloatTensor key,
            FloatTensor value,
            AttentionMask mask,
            Map<String, Object> kwargs) {
        Object c = kwargs == null ? null : kwargs.get(AttentionKwargs.CACHE);
        if (!(c instanceof PagedKvCache cache)) {
            throw new IllegalArgumentException(
                    "'" + name + "' is a paged attention implementation and needs a PagedKvCache"
                            + " in kwargs \"" + AttentionKwargs.CACHE + "\" (got "
                            + (c == null ? "none" : c.getClass().getName())
                            + "). Paged names have no"
                            + " mask formatter, so running without the cache would silently drop causal masking; use '"
                            + name.substring(name.indexOf('|') + 1) + "' for a plain forward.");
        }
        if (mask != null) {
            throw new IllegalArgumentException(
                    "'" + name + "' builds its causal mask from the cache positions and takes" + " mask == null, got a "
                            + mask.describe() + "; do not register a mask formatter for paged names");
        }
        int B = query.dim(0), H = query.dim(1), Sq = query.dim(2), D = query.dim(3);
        int Hkv = key.dim(1), Dv = value.dim(3);
        if (key.dim(0) != B || key.dim(2) != Sq || value.dim(2) != Sq) {
            throw new IllegalArgumentException(name + ": query " + query + ", key " + key + ", value " + value
                    + " must hold the same batch and new tokens");
        }
        if (Hkv != cache.kvHeads() || key.dim(3) != cache.headDim() || Dv != cache.headDim()) {
            throw new IllegalArgumentException(name + ": key/value " + key + " do not fit the cache (" + cache.kvHeads()
                    + " kv heads, head dim " + cache.headDim() + ")");
        }
        int[] seqIds = intArray(kwargs, AttentionKwargs.SEQ_IDS, B, null);
        if (seqIds == null) {
            throw new IllegalArgumentException(name + " needs kwargs \"" + AttentionKwargs.SEQ_IDS + "\" (int[" + B
                    + "]): the cache sequence of each batch row");
        }
        for (int b = 0; b < B; b++) {
            for (int b2 = 0; b2 < b; b2++) {
                if (seqIds[b] == seqIds[b2])
                    throw new IllegalArgumentException(
                            name + ": seq_ids " + Arrays.toString(seqIds) + " repeats sequence " + seqIds[b]);
            }
        }
        int[] qLen = intArray(kwargs, AttentionKwargs.QUERY_LENGTHS, B, Sq);
        for (int b = 0; b < B; b++) {
            if (qLen[b] < 0 || qLen[b] > Sq)
                throw new IllegalArgumentException(
                        name + ": query_lengths[" + b + "] = " + qLen[b] + " outside 0.." + Sq);
        }
        int layer = AttentionKwargs.layerIdx(module, kwargs);
        boolean causal = AttentionKwargs.isCausal(module, kwargs);
        Integer sw = AttentionKwargs.slidingWindow(module, kwargs);
        int window = sw == null || sw <= 1 ? 0 : sw;

        // 1. write the new tokens, remembering where each row's step starts
        int[] past = new int[B];
        int[] start = intArray(kwargs, AttentionKwargs.KV_START, B, 0);
        int[] histLen = new int[B];
        int maxHist = 0;
        for (int b = 0; b < B; b++) {
            past[b] = cache.length(layer, seqIds[b]);
            cache.ensureCapacity(seqIds[b], past[b] + qLen[b]);
            cache.writeHeads(layer, seqIds[b], past[b], key, value, b, qLen[b]);
            int end = past[b] + qLen[b];
            if (start[b] < 0 || start[b] > end) {
                throw new IllegalArgumentException(name + ": kv_start[" + b + "] = " + start[b] + " outside 0.." + end);
            }
            histLen[b] = end - start[b];
            maxHist = Math.max(maxHist, histLen[b]);
        }
        // 2. gather each row's history [kv_start, past + n) into (B, Hkv, maxHist, D), zero-padded
        float[] k = new float[B * Hkv * maxHist * D];
        float[] v = new float[B * Hkv * maxHist * Dv];
        for (int b = 0; b < B; b++) {
            cache.readInto(layer, seqIds[b], start[b], start[b] + histLen[b], k, v, b * Hkv * maxHist * D, maxHist);
        }
        // 3. the offset-causal mask: query i (absolute past + i) sees keys start + j <= past + i
        boolean[] m = new boolean[B * Sq * maxHist];
        for (int b = 0; b < B; b++) {
            for (int i = 0; i < qLen[b]; i++) {
                int qPos = past[b] + i;
                for (int j = 0; j < histLen[b]; j++) {
                    int kvPos = start[b] + j;
                    boolean see = (!causal || kvPos <= qPos) && (window == 0 || kvPos > qPos - window);
                    m[(b * Sq + i) * maxHist + j] = see;
                }
            }
        }
        AttentionOutput out = base.apply(
                module,
                query,
                new FloatTensor(k, B, Hkv, maxHist, D),
                new FloatTensor(v, B, Hkv, maxHist, Dv),
                new BooleanMask(m, B, Sq, maxHist),
                kwargs);
        // 4. padded query rows (and rows that can see nothing) give zeros
        float[] o = out.output().data;
        for (int b = 0; b < B; b++) {
            for (int i = 0; i < Sq; i++) {
                boolean any = false;
                for (int j = 0; j < histLen[b] && !any; j++) any = m[(b * Sq + i) * maxHist + j];
                if (!any) Arrays.fill(o, (b * Sq + i) * H * Dv, (b * Sq + i + 1) * H * Dv, 0f);
            }
        }
        return out;
    }

    private int[] intArray(Map<String, Object> kwargs, String key, int B, Integer fill) {
        int[] a = AttentionKwargs.ints(kwargs, key);
        if (a == null) {
            if (fill == null) return null;
            a = new int[B];
            Arrays.fill(a, fill);
            return a;
        }
        if (a.length != B)
            throw new IllegalArgumentException(
                    name + ": kwargs \"" + key + "\" has " + a.length + " entries for a batch of " + B);
        return a;
    }
}
