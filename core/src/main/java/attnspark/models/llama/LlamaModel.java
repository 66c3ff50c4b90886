package attnspark.models.llama;

import attnspark.attention.AttentionFunction;
import attnspark.attention.AttentionKwargs;
import attnspark.attention.AttentionMask;
import attnspark.attention.AttentionModule;
import attnspark.attention.dispatch.AttentionInterface;
import attnspark.attention.dispatch.Masks;
import attnspark.checkpoint.Checkpoint;
import attnspark.checkpoint.SafeTensorsCheckpoint;
import attnspark.kernels.AlignedFloats;
import attnspark.kernels.Epilogue;
import attnspark.kernels.FloatSpan;
import attnspark.kernels.Kernels;
import attnspark.kernels.Linear;
import attnspark.kernels.Parallel;
import attnspark.kernels.SwiGlu;
import attnspark.models.AttentionModel;
import attnspark.models.HfConfig;
import attnspark.models.ModelPreflight;
import attnspark.models.Norms;
import attnspark.models.RotaryEmbedding;
import attnspark.models.SequenceBatch;
import attnspark.models.Weights;
import attnspark.tensor.FloatTensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Llama-family decoder (HF modeling_llama; llama / mistral / qwen2 configs): RMSNorm,
 * rotate-half RoPE, GQA, SwiGLU, tied or untied head. Activations stay packed (T, ·).
 */
public final class LlamaModel extends AttentionModel {
    public record Config(
            int vocabSize,
            int hidden,
            int intermediate,
            int layers,
            int heads,
            int kvHeads,
            int headDim,
            float rmsNormEps,
            double ropeTheta,
            Map<String, Object> ropeScaling,
            boolean tieWordEmbeddings,
            int maxPositions,
            boolean isCausal,
            String hiddenAct,
            Integer attentionChunkSize,
            Integer slidingWindow,
            String[] layerTypes) {
        public static Config from(HfConfig c) {
            int heads = c.getInt("num_attention_heads");
            int hidden = c.getInt("hidden_size");
            String act = c.getString("hidden_act", "silu");
            if (!act.equals("silu"))
                throw new IllegalArgumentException(
                        c.source() + ": hidden_act '" + act + "' is not supported for llama (silu only)");
            int layers = c.getInt("num_hidden_layers");
            Integer chunk = c.has("attention_chunk_size") ? c.getInt("attention_chunk_size") : null;
            // qwen2 keeps sliding_window in its config but applies it only with use_sliding_window
            // (Qwen2Config default: false), and then only to layers >= max_window_layers (default 28)
            boolean qwen2 = c.modelType().equals("qwen2");
            Integer window = c.has("sliding_window") && c.getBool("use_sliding_window", !qwen2)
                    ? c.getInt("sliding_window")
                    : null;
            String[] types = layerTypes(c, layers, window, chunk);
            if (qwen2 && window != null && c.getList("layer_types") == null) {
                int maxWindowLayers = c.getInt("max_window_layers", 28);
                for (int l = 0; l < layers && l < maxWindowLayers; l++) types[l] = "full_attention";
            }
            return new Config(
                    c.getInt("vocab_size"),
                    hidden,
                    c.getInt("intermediate_size"),
                    layers,
                    heads,
                    c.getInt("num_key_value_heads", heads),
                    c.getInt("head_dim", hidden / heads),
                    (float) c.getDouble("rms_norm_eps", 1e-6),
                    ropeTheta(c),
                    ropeScaling(c),
                    c.getBool("tie_word_embeddings", false),
                    c.getInt("max_position_embeddings", 2048),
                    c.getBool("is_causal", true),
                    act,
                    chunk,
                    window,
                    types);
        }

        /**
         * Transformers v5 writes {@code rope_parameters} ({@code rope_type}, {@code rope_theta} and
         * the scaling keys in one map) where v4 wrote {@code rope_theta} + {@code rope_scaling}.
         */
        private static Map<String, Object> ropeParameters(HfConfig c) {
            Map<String, Object> p = c.getMap("rope_parameters");
            if (p != null && !p.containsKey("rope_type") && !p.containsKey("rope_theta")) {
                throw new IllegalArgumentException(
                        c.source() + ": rope_parameters keyed by layer type " + p.keySet()
                                + " (one RoPE per attention kind) is not supported by the llama family; expected rope_type/rope_theta");
            }
            return p;
        }

        private static double ropeTheta(HfConfig c) {
            Map<String, Object> p = ropeParameters(c);
            if (p != null && p.get("rope_theta") instanceof Number n) return n.doubleValue();
            return c.getDouble("rope_theta", 10000.0);
        }

        private static Map<String, Object> ropeScaling(HfConfig c) {
            Map<String, Object> p = ropeParameters(c);
            if (p != null && !"default".equals(String.valueOf(p.getOrDefault("rope_type", "default")))) return p;
            return c.getMap("rope_scaling");
        }

        /**
         * Per-layer attention kind, as HF's layer_types: full_attention, sliding_attention or
         * chunked_attention; without layer_types every layer takes the config's one kind.
         */
        private static String[] layerTypes(HfConfig c, int layers, Integer window, Integer chunk) {
            String[] types = new String[layers];
            List<Object> given = c.getList("layer_types");
            if (given != null && given.size() != layers) {
                throw new IllegalArgumentException(c.source() + ": layer_types has " + given.size()
                        + " entries but num_hidden_layers is " + layers);
            }
            for (int l = 0; l < layers; l++) {
                String t = given != null
                        ? String.valueOf(given.get(l))
                        : window != null ? "sliding_attention" : chunk != null ? "chunked_attention" : "full_attention";
                switch (t) {
                    case "full_attention" -> {}
                    case "sliding_attention" -> {
                        if (window == null)
                            throw new IllegalArgumentException(c.source() + ": layer " + l
                                    + " is sliding_attention but sliding_window is not set");
                    }
                    case "chunked_attention" -> {
                        if (chunk == null)
                            throw new IllegalArgumentException(c.source() + ": layer " + l
                                    + " is chunked_attention but attention_chunk_size is not set");
                    }
                    default ->
                        throw new IllegalArgumentException(
                                c.source() + ": layer_types[" + l + "] = '" + t
                                        + "' is not supported; supported: full_attention, sliding_attention, chunked_attention");
                }
                types[l] = t;
            }
            return types;
        }
    }

    private record Layer(
            float[] inNorm,
            Linear qkv,
            Linear o,
            float[] postNorm,
            Linear gateUp,
            Linear down,
            AttentionModule module) {}

    public final Config config;
    private final float[] embed; // (V, D)
    private final Layer[] layers;
    private final float[] finalNorm; // (D)
    private final Linear lmHead; // D -> V
    private final RotaryEmbedding rope;
    private final ThreadLocal<Arena> arena = ThreadLocal.withInitial(Arena::new);

    public LlamaModel(Config cfg, Weights w, String attnImplementation) {
        super(attnImplementation);
        if (cfg.heads % cfg.kvHeads != 0) {
            throw new IllegalArgumentException(
                    "num_attention_heads " + cfg.heads + " is not a multiple of num_key_value_heads " + cfg.kvHeads);
        }
        this.config = cfg;
        int D = cfg.hidden, Dh = cfg.headDim, H = cfg.heads, Hkv = cfg.kvHeads, I = cfg.intermediate;
        FloatTensor emb = w.get("model.embed_tokens.weight", cfg.vocabSize, D);
        embed = emb.data;
        layers = new Layer[cfg.layers];
        float scaling = (float) (1.0 / Math.sqrt(Dh));
        for (int l = 0; l < cfg.layers; l++) {
            String p = "model.layers." + l + ".";
            layers[l] = new Layer(
                    w.get(p + "input_layernorm.weight", D).data,
                    w.fusedLinear(
                            D,
                            new String[] {p + "self_attn.q_proj", p + "self_attn.k_proj", p + "self_attn.v_proj"},
                            new int[] {H * Dh, Hkv * Dh, Hkv * Dh}),
                    w.linear(p + "self_attn.o_proj", D, H * Dh, false),
                    w.get(p + "post_attention_layernorm.weight", D).data,
                    w.fusedLinear(D, new String[] {p + "mlp.gate_proj", p + "mlp.up_proj"}, new int[] {I, I}),
                    w.linear(p + "mlp.down_proj", D, I, false),
                    AttentionModule.of(cfg.isCausal, l, H / Hkv, scaling));
        }
        finalNorm = w.get("model.norm.weight", D).data;
        lmHead = cfg.tieWordEmbeddings || !w.has("lm_head.weight")
                ? Kernels.linear(emb, null)
                : w.linear("lm_head", cfg.vocabSize, D, false);
        rope = new RotaryEmbedding(Dh, cfg.ropeTheta, cfg.ropeScaling);
        // a tied checkpoint may still carry a copy of the head; rotary buffers are recomputed
        // (older Llama checkpoints saved rotary_emb.inv_freq; HF ignores it on load too)
        w.checkNoneUnexpected(
                cfg.tieWordEmbeddings
                        ? Set.of("lm_head.weight", "*.rotary_emb.inv_freq")
                        : Set.of("*.rotary_emb.inv_freq"),
                Set.of());
    }

    /**
     * config.json + model.safetensors (or a sharded index; F32/F16/BF16) from an HF model
     * directory. The tokenizer.json beside them is read by {@link attnspark.tokenizer.TextTokenizer}.
     */
    public static LlamaModel fromPretrained(Path dir, String attnImplementation) {
        return fromPretrained(HfConfig.read(dir.resolve("config.json")), dir, attnImplementation);
    }

    /** With a config the caller adjusted (is_causal, attention_chunk_size, ...). */
    public static LlamaModel fromPretrained(HfConfig config, Path dir, String attnImplementation) {
        Checkpoint ck = SafeTensorsCheckpoint.open(dir);
        try {
            ModelPreflight.checkLlama(config, ck);
            return new LlamaModel(Config.from(config), new Weights(ck, ""), attnImplementation);
        } finally {
            ck.close();
        }
    }

    public int hiddenSize() {
        return config.hidden;
    }

    public int maxPositions() {
        return config.maxPositions;
    }

    /**
     * The longest span of positions one attention call covers in a forward of a {@code length}-token
     * sequence with this model's attention: {@code length}, or the chunk size when every layer is
     * causal chunked attention ({@code attention_chunk_size}, HF's chunked mask; paged backends
     * attend over the whole cache and do not chunk). RoPE makes q·k depend on q - kv only, so with
     * spans of at most {@link #maxPositions()} every score is one the model was trained on, however
     * far the absolute positions go: chunked attention can read documents longer than the model.
     */
    public int attentionSpan(int length) {
        return attentionSpan(length, config.isCausal, attnImplementation());
    }

    private int attentionSpan(int length, boolean causal, String attn) {
        boolean chunked = config.attentionChunkSize != null
                && causal
                && !AttentionInterface.split(attn).paged()
                && otherLayerTypes().isEmpty();
        return chunked ? Math.min(length, config.attentionChunkSize) : length;
    }

    /** Layer kinds other than chunked_attention, in layer order, each once. */
    private List<String> otherLayerTypes() {
        List<String> out = new ArrayList<>();
        for (String t : config.layerTypes) if (!t.equals("chunked_attention") && !out.contains(t)) out.add(t);
        return out;
    }

    public int vocabSize() {
        return config.vocabSize;
    }

    /**
     * Final-normed hidden states, packed (T, hidden). kwargs reach the attention function
     * unchanged; kwargs "is_causal" (Boolean) overrides config.isCausal for this call only.
     *
     * <p>Batch invariance: a sequence's numbers never depend on the other sequences of the batch.
     * OpenBLAS sgemm gives a row different bits depending on the row count M of the call and on
     * the row's position in it (measured: even at the same M, shifting rows changes ~10% of the
     * results; thread splits and M-tail kernels differ), so every linear runs once per sequence
     * ({@link #perSequence}: M is the sequence's own length), and attention runs once per sequence
     * (B = 1, no padding, its own mask). Elementwise steps are row-local.
     */
    public float[] forward(SequenceBatch batch, Map<String, Object> kwargs) {
        Packing p = new Packing(batch.offsets, batch.startPositions);
        Config c = config;
        int H = c.heads, Hkv = c.kvHeads, Dh = c.headDim;
        Arena a = arena.get().fit(p.tokens(), c.hidden, (H + 2 * Hkv) * Dh, c.intermediate);
        for (int b = 0; b < batch.batch; b++) {
            for (int s = 0; s < batch.length(b); s++) embedToken(batch.ids[b][s], a.x, batch.offsets[b] + s);
        }
        return layers(a, p, kwargs);
    }

    /**
     * Activation buffers of one thread, grown to the largest batch it has run and reused across
     * layers and batches, each on a 64-byte line (see BertModel's): x the residual stream, h a
     * normed copy, then the projections' outputs. Attention's own buffers stay per call (the
     * registry's functions take and return (B, H, S, D) tensors).
     */
    private static final class Arena {
        FloatSpan x = FloatSpan.EMPTY,
                h = FloatSpan.EMPTY,
                qkv = FloatSpan.EMPTY,
                gu = FloatSpan.EMPTY,
                act = FloatSpan.EMPTY,
                y = FloatSpan.EMPTY;

        Arena fit(int tokens, int hidden, int qkvWidth, int intermediate) {
            x = AlignedFloats.atLeast(x, tokens, hidden);
            h = AlignedFloats.atLeast(h, tokens, hidden);
            qkv = AlignedFloats.atLeast(qkv, tokens, qkvWidth);
            gu = AlignedFloats.atLeast(gu, tokens, 2 * intermediate);
            act = AlignedFloats.atLeast(act, tokens, intermediate);
            y = AlignedFloats.atLeast(y, tokens, hidden);
            return this;
        }
    }

    /**
     * Where the sequences of a packed (T, ·) activation lie: sequence b is rows offsets[b] ..
     * offsets[b+1]-1 (cu_seqlens) and its first token sits at position starts[b].
     */
    private record Packing(int[] offsets, int[] starts) {
        int sequences() {
            return starts.length;
        }

        int tokens() {
            return offsets[starts.length];
        }

        int length(int b) {
            return offsets[b + 1] - offsets[b];
        }

        int maxLength() {
            int m = 0;
            for (int b = 0; b < sequences(); b++) m = Math.max(m, length(b));
            return m;
        }

        int firstPosition() {
            int m = sequences() == 0 ? 0 : Integer.MAX_VALUE;
            for (int st : starts) m = Math.min(m, st);
            return m;
        }

        /** One past the largest position any token takes: the RoPE table size needed. */
        int positionLimit() {
            int m = 0;
            for (int b = 0; b < sequences(); b++) m = Math.max(m, starts[b] + length(b));
            return m;
        }
    }

    /** Row t of x (T, D) = the embedding of token id. */
    private void embedToken(int id, FloatSpan x, int t) {
        if (id < 0 || id >= config.vocabSize)
            throw new IllegalArgumentException("token id " + id + " outside vocab " + config.vocabSize);
        System.arraycopy(embed, id * config.hidden, x.array(), x.offset() + t * config.hidden, config.hidden);
    }

    /** The decoder layers over the embedded tokens a.x (T, D), in place; the final norm of them, (T, D). */
    private float[] layers(Arena a, Packing p, Map<String, Object> kwargs) {
        Config c = config;
        int T = p.tokens(), D = c.hidden, I = c.intermediate;
        boolean causal = AttentionKwargs.isCausal(kwargs, c.isCausal);
        String attn = attnImplementation();
        // no attention may span more than the trained context; continuing a cache past it is allowed
        // (RoPE scores depend on q - kv only, and the caller's window bounds that distance)
        if (attentionSpan(p.maxLength(), causal, attn) > c.maxPositions) {
            throw new IllegalArgumentException("a sequence has " + p.maxLength() + " tokens but the model has "
                    + c.maxPositions
                    + " positions; truncate to max length, or score long documents with --mode hf-strided"
                    + " --window W --stride S or --mode lm-eval-rolling --window L"
                    + (c.attentionChunkSize != null && !otherLayerTypes().isEmpty()
                            ? " (--attention-chunk bounds only its chunked_attention layers;" + " this model also has "
                                    + String.join("/", otherLayerTypes()) + " layers)"
                            : ""));
        }
        AttentionFunction fn = attentionFunctions.get(attn);
        RotaryEmbedding.Table table = rope.table(p.firstPosition(), Math.max(p.firstPosition(), p.positionLimit() - 1));
        // per layer kind, the attention calls of this forward with their masks, built once (HF
        // create_masks_for_generate)
        Map<String, List<Span>> spans = new HashMap<>();
        for (String type : c.layerTypes) spans.computeIfAbsent(type, t -> spans(t, p, attn, causal, kwargs));
        for (int l = 0; l < layers.length; l++) {
            Layer L = layers[l];
            Norms.rmsNorm(a.x, a.h, T, D, L.inNorm, c.rmsNormEps); // (T, D)
            perSequence(L.qkv, a.h, a.qkv, p); // (T, (H+2Hkv)·Dh)
            float[] att = attention(fn, L.module, spans.get(c.layerTypes[l]), a.qkv, T, table); // (T, H·Dh)
            perSequence(L.o, FloatSpan.of(att), a.y, p);
            addInPlace(a.x, a.y, T * D); // x += o_proj(att)
            Norms.rmsNorm(a.x, a.h, T, D, L.postNorm, c.rmsNormEps);
            perSequence(L.gateUp, a.h, a.gu, p); // (T, 2I): gate | up
            SwiGlu.apply(a.gu, T, I, a.act); // (T, I): silu(gate) * up
            perSequence(L.down, a.act, a.y, p);
            addInPlace(a.x, a.y, T * D); // x += down_proj(act)
        }
        float[] out = new float[T * D];
        Norms.rmsNorm(a.x, FloatSpan.of(out), T, D, finalNorm, c.rmsNormEps);
        return out;
    }

    /**
     * One attention call: tokens [t0, t0 + n) of the packed rows, their positions starting at
     * {@code pos0}, with this call's mask and kwargs.
     */
    private record Span(int t0, int n, int pos0, AttentionMask mask, Map<String, Object> kwargs) {}

    /** Paged kwargs that hold one entry per batch row; a per-sequence call gets its own entry. */
    private static final List<String> PER_ROW_KWARGS =
            List.of(AttentionKwargs.SEQ_IDS, AttentionKwargs.QUERY_LENGTHS, AttentionKwargs.KV_START);

    /**
     * The attention calls of one layer kind: one per sequence (B = 1, so no padding and a mask of
     * its own), and for causal chunked attention one per chunk of {@code attention_chunk_size}
     * tokens (HF's chunked mask lets a token see only the earlier tokens of its own chunk, counted
     * from absolute position 0, so each chunk is an independent causal call: cost linear in length).
     */
    private List<Span> spans(String type, Packing batch, String attn, boolean causal, Map<String, Object> kwargs) {
        Config c = config;
        Map<String, Object> kw = AttentionKwargs.withCausal(kwargs, causal);
        if (type.equals("sliding_attention")) kw.put(AttentionKwargs.SLIDING_WINDOW, c.slidingWindow);
        // paged backends build their own mask from the cache positions (no chunked capability): one call per sequence
        boolean chunked = type.equals("chunked_attention")
                && causal
                && !AttentionInterface.split(attn).paged();
        Map<String, AttentionMask> masks = new HashMap<>(); // by length: equal lengths share one
        List<Span> out = new ArrayList<>();
        for (int b = 0; b < batch.sequences(); b++) {
            Map<String, Object> rowKw = kw;
            for (String key : PER_ROW_KWARGS) {
                if (kw.get(key) instanceof int[] perRow && perRow.length == batch.sequences()) {
                    if (rowKw == kw) rowKw = new HashMap<>(kw);
                    rowKw.put(key, new int[] {perRow[b]});
                }
            }
            int len = batch.length(b), start = batch.starts()[b];
            if (chunked) {
                // flash refuses chunked attention in HF; let the mask factory say so in its words
                Masks.createChunkedCausalMask(maskInputs(attn, len, true), c.attentionChunkSize);
            }
            for (int s0 = 0; s0 < len; ) {
                int s1 = chunked
                        ? Math.min(len, s0 + c.attentionChunkSize - Math.floorMod(start + s0, c.attentionChunkSize))
                        : len;
                int n = s1 - s0;
                AttentionMask mask = masks.computeIfAbsent(
                        type + ":" + n,
                        k -> type.equals("sliding_attention")
                                ? Masks.createSlidingWindowCausalMask(maskInputs(attn, n, causal), c.slidingWindow)
                                : Masks.createCausalMask(maskInputs(attn, n, causal)));
                out.add(new Span(batch.offsets()[b] + s0, n, start + s0, mask, rowKw));
                s0 = s1;
            }
        }
        return out;
    }

    private Masks.MaskInputs maskInputs(String attn, int n, boolean causal) {
        return Masks.MaskInputs.of(attn, 1, n, null)
                .withMaskInterface(maskFunctions)
                .withCausal(causal);
    }

    /** Attention of every span: heads gathered from the packed q|k|v rows, RoPE, the backend, rows written back. */
    private float[] attention(
            AttentionFunction fn,
            AttentionModule module,
            List<Span> spans,
            FloatSpan qkv,
            int T,
            RotaryEmbedding.Table table) {
        int H = config.heads, Hkv = config.kvHeads, Dh = config.headDim, width = (H + 2 * Hkv) * Dh;
        float[] a = new float[T * H * Dh]; // (T, H·Dh)
        for (Span sp : spans) {
            int[][] pos = new int[1][sp.n];
            for (int i = 0; i < sp.n; i++) pos[0][i] = sp.pos0 + i;
            FloatTensor q = heads(qkv, width, sp, 0, H, Dh); // (1, H, n, Dh)
            FloatTensor k = heads(qkv, width, sp, H * Dh, Hkv, Dh); // (1, Hkv, n, Dh)
            FloatTensor v = heads(qkv, width, sp, (H + Hkv) * Dh, Hkv, Dh);
            RotaryEmbedding.apply(q, pos, table);
            RotaryEmbedding.apply(k, pos, table);
            FloatTensor o = fn.apply(module, q, k, v, sp.mask, sp.kwargs).output(); // (1, n, H, Dh) = (n, H·Dh)
            System.arraycopy(o.data, 0, a, sp.t0 * H * Dh, sp.n * H * Dh);
        }
        return a;
    }

    /** (1, heads, n, Dh) from columns col.. of rows t0..t0+n-1 of a (T, width) matrix. */
    private static FloatTensor heads(FloatSpan x, int width, Span sp, int col, int heads, int Dh) {
        float[] out = new float[heads * sp.n * Dh];
        for (int s = 0; s < sp.n; s++) {
            int src = x.offset() + (sp.t0 + s) * width + col;
            for (int h = 0; h < heads; h++) System.arraycopy(x.array(), src + h * Dh, out, (h * sp.n + s) * Dh, Dh);
        }
        return new FloatTensor(out, 1, heads, sp.n, Dh);
    }

    /**
     * y (T, out) = x (T, in) · Wᵀ, one gemm per sequence (M = its length), so a sequence's bits do
     * not depend on the batch around it; each call reads and writes its rows where they are.
     */
    private static void perSequence(Linear lin, FloatSpan x, FloatSpan y, Packing p) {
        int in = lin.inFeatures(), out = lin.outFeatures();
        for (int b = 0; b < p.sequences(); b++) {
            int t0 = p.offsets()[b], n = p.length(b);
            if (n == 0) continue;
            lin.forward(
                    new FloatSpan(x.array(), x.offset() + t0 * in, n * in),
                    n,
                    new FloatSpan(y.array(), y.offset() + t0 * out, n * out),
                    Epilogue.NONE);
        }
    }

    /** x[0 .. n) += y[0 .. n), from each span's offset. */
    private static void addInPlace(FloatSpan x, FloatSpan y, int n) {
        float[] xa = x.array(), ya = y.array();
        int xo = x.offset(), yo = y.offset();
        Parallel.forRange(n, 1 << 16, (from, to) -> {
            for (int i = from; i < to; i++) xa[xo + i] += ya[yo + i];
        });
    }

    /** The module's isCausal is the config's; a per-call override travels in kwargs like HF's is_causal. */
    /** Logits for the given packed rows of hidden states: (rows, V). */
    public float[] logits(float[] hidden, int rows) {
        return lmHead.forward(hidden, rows);
    }
}
