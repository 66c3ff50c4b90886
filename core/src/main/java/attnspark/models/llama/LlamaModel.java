package attnspark.models.llama;

import attnspark.attention.AttentionFunction;
import attnspark.attention.AttentionModule;
import attnspark.attention.Masks;
import attnspark.kernels.Kernels;
import attnspark.kernels.Linear;
import attnspark.models.HfConfig;
import attnspark.models.ModelPreflight;
import attnspark.models.Norms;
import attnspark.models.RotaryEmbedding;
import attnspark.models.SequenceBatch;
import attnspark.models.AttentionModel;
import attnspark.models.Weights;
import attnspark.tensor.FloatTensor;

import java.util.Map;
import java.util.Set;

/**
 * Llama-family decoder (HF modeling_llama; llama / mistral / qwen2 configs): RMSNorm,
 * rotate-half RoPE, GQA, SwiGLU, tied or untied head. Activations stay packed (T, ·).
 */
public final class LlamaModel extends AttentionModel {
    public record Config(int vocabSize, int hidden, int intermediate, int layers, int heads, int kvHeads, int headDim,
                         float rmsNormEps, double ropeTheta, Map<String, Object> ropeScaling, boolean tieWordEmbeddings,
                         int maxPositions, boolean isCausal, String hiddenAct, Integer attentionChunkSize,
                         Integer slidingWindow, String[] layerTypes) {
        public static Config from(HfConfig c) {
            int heads = c.getInt("num_attention_heads");
            int hidden = c.getInt("hidden_size");
            String act = c.getString("hidden_act", "silu");
            if (!act.equals("silu")) throw new IllegalArgumentException(c.source() + ": hidden_act '" + act + "' is not supported for llama (silu only)");
            int layers = c.getInt("num_hidden_layers");
            Integer chunk = c.has("attention_chunk_size") ? c.getInt("attention_chunk_size") : null;
            // qwen2 keeps sliding_window in its config but applies it only with use_sliding_window
            // (Qwen2Config default: false), and then only to layers >= max_window_layers (default 28)
            boolean qwen2 = c.modelType().equals("qwen2");
            Integer window = c.has("sliding_window") && c.getBool("use_sliding_window", !qwen2) ? c.getInt("sliding_window") : null;
            String[] types = layerTypes(c, layers, window, chunk);
            if (qwen2 && window != null && c.getList("layer_types") == null) {
                int maxWindowLayers = c.getInt("max_window_layers", 28);
                for (int l = 0; l < layers && l < maxWindowLayers; l++) types[l] = "full_attention";
            }
            return new Config(c.getInt("vocab_size"), hidden, c.getInt("intermediate_size"), layers,
                    heads, c.getInt("num_key_value_heads", heads), c.getInt("head_dim", hidden / heads),
                    (float) c.getDouble("rms_norm_eps", 1e-6), ropeTheta(c), ropeScaling(c),
                    c.getBool("tie_word_embeddings", false), c.getInt("max_position_embeddings", 2048),
                    c.getBool("is_causal", true), act, chunk, window, types);
        }

        /**
         * Transformers v5 writes {@code rope_parameters} ({@code rope_type}, {@code rope_theta} and
         * the scaling keys in one map) where v4 wrote {@code rope_theta} + {@code rope_scaling}.
         */
        private static java.util.Map<String, Object> ropeParameters(HfConfig c) {
            java.util.Map<String, Object> p = c.getMap("rope_parameters");
            if (p != null && !p.containsKey("rope_type") && !p.containsKey("rope_theta")) {
                throw new IllegalArgumentException(c.source() + ": rope_parameters keyed by layer type " + p.keySet()
                        + " (one RoPE per attention kind) is not supported by the llama family; expected rope_type/rope_theta");
            }
            return p;
        }

        private static double ropeTheta(HfConfig c) {
            java.util.Map<String, Object> p = ropeParameters(c);
            if (p != null && p.get("rope_theta") instanceof Number n) return n.doubleValue();
            return c.getDouble("rope_theta", 10000.0);
        }

        private static java.util.Map<String, Object> ropeScaling(HfConfig c) {
            java.util.Map<String, Object> p = ropeParameters(c);
            if (p != null && !"default".equals(String.valueOf(p.getOrDefault("rope_type", "default")))) return p;
            return c.getMap("rope_scaling");
        }

        /**
         * Per-layer attention kind, as HF's layer_types: full_attention, sliding_attention or
         * chunked_attention; without layer_types every layer takes the config's one kind.
         */
        private static String[] layerTypes(HfConfig c, int layers, Integer window, Integer chunk) {
            String[] types = new String[layers];
            java.util.List<Object> given = c.getList("layer_types");
            if (given != null && given.size() != layers) {
                throw new IllegalArgumentException(c.source() + ": layer_types has " + given.size()
                        + " entries but num_hidden_layers is " + layers);
            }
            for (int l = 0; l < layers; l++) {
                String t = given != null ? String.valueOf(given.get(l))
                        : window != null ? "sliding_attention" : chunk != null ? "chunked_attention" : "full_attention";
                switch (t) {
                    case "full_attention" -> { }
                    case "sliding_attention" -> {
                        if (window == null) throw new IllegalArgumentException(c.source() + ": layer " + l + " is sliding_attention but sliding_window is not set");
                    }
                    case "chunked_attention" -> {
                        if (chunk == null) throw new IllegalArgumentException(c.source() + ": layer " + l + " is chunked_attention but attention_chunk_size is not set");
                    }
                    default -> throw new IllegalArgumentException(c.source() + ": layer_types[" + l + "] = '" + t
                            + "' is not supported; supported: full_attention, sliding_attention, chunked_attention");
                }
                types[l] = t;
            }
            return types;
        }
    }

    private record Layer(float[] inNorm, Linear qkv, Linear o, float[] postNorm, Linear gateUp, Linear down,
                         AttentionModule module) {
    }

    public final Config config;
    private final float[] embed;          // (V, D)
    private final Layer[] layers;
    private final float[] finalNorm;      // (D)
    private final Linear lmHead;          // D -> V
    private final RotaryEmbedding rope;

    public LlamaModel(Config cfg, Weights w, String attnImplementation) {
        super(attnImplementation);
        if (cfg.heads % cfg.kvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads " + cfg.heads + " is not a multiple of num_key_value_heads " + cfg.kvHeads);
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
                    w.fusedLinear(D, new String[]{p + "self_attn.q_proj", p + "self_attn.k_proj", p + "self_attn.v_proj"},
                            new int[]{H * Dh, Hkv * Dh, Hkv * Dh}),
                    w.linear(p + "self_attn.o_proj", D, H * Dh, false),
                    w.get(p + "post_attention_layernorm.weight", D).data,
                    w.fusedLinear(D, new String[]{p + "mlp.gate_proj", p + "mlp.up_proj"}, new int[]{I, I}),
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
        w.checkNoneUnexpected(cfg.tieWordEmbeddings ? Set.of("lm_head.weight", "*.rotary_emb.inv_freq") : Set.of("*.rotary_emb.inv_freq"),
                Set.of());
    }

    /**
     * config.json + model.safetensors (or a sharded index; F32/F16/BF16) from an HF model
     * directory. The tokenizer.json beside them is read by {@link attnspark.tokenizer.TextTokenizer}.
     */
    public static LlamaModel fromPretrained(java.nio.file.Path dir, String attnImplementation) {
        return fromPretrained(HfConfig.read(dir.resolve("config.json")), dir, attnImplementation);
    }

    /** With a config the caller adjusted (is_causal, attention_chunk_size, ...). */
    public static LlamaModel fromPretrained(HfConfig config, java.nio.file.Path dir, String attnImplementation) {
        attnspark.checkpoint.Checkpoint ck = attnspark.checkpoint.SafeTensorsCheckpoint.open(dir);
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

    public int vocabSize() {
        return config.vocabSize;
    }

    /**
     * Final-normed hidden states, packed (T, hidden). kwargs reach the attention function
     * unchanged; kwargs "is_causal" (Boolean) overrides config.isCausal for this call only.
     */
    public float[] forward(SequenceBatch batch, Map<String, Object> kwargs) {
        Config c = config;
        int T = batch.totalTokens, D = c.hidden, H = c.heads, Hkv = c.kvHeads, Dh = c.headDim;
        int qkvWidth = (H + 2 * Hkv) * Dh;
        // one forward may not exceed the trained context; continuing a cache past it is allowed
        // (RoPE scores depend on q - kv only, and the caller's window bounds that distance)
        if (batch.maxLength > c.maxPositions) {
            throw new IllegalArgumentException("a sequence has " + batch.maxLength + " tokens but the model has "
                    + c.maxPositions + " positions; truncate to max length");
        }
        float[] x = new float[T * D];                                        // (T, D)
        for (int b = 0; b < batch.batch; b++) {
            for (int s = 0; s < batch.length(b); s++) {
                int id = batch.ids[b][s];
                if (id < 0 || id >= c.vocabSize) throw new IllegalArgumentException("token id " + id + " outside vocab " + c.vocabSize);
                System.arraycopy(embed, id * D, x, (batch.offsets[b] + s) * D, D);
            }
        }
        Object causalKw = kwargs == null ? null : kwargs.get("is_causal");
        boolean causal = causalKw instanceof Boolean bk ? bk : c.isCausal;
        String attn = attnImplementation();
        AttentionFunction fn = attentionFunctions.get(attn);
        int[][] positions = batch.positionIds();                            // (B, S)
        RotaryEmbedding.Table table = rope.table(batch.firstPosition(), batch.positionLimit() - 1);
        Masks.MaskInputs mi = new Masks.MaskInputs(attn, maskFunctions, batch.batch, batch.maxLength,
                batch.paddingMask(), null, 0, causal, null, null, null);
        // one mask per distinct layer kind, built once per forward (HF create_masks_for_generate)
        Map<String, Object> masks = new java.util.HashMap<>();
        for (String type : c.layerTypes) {
            if (masks.containsKey(type)) continue;
            masks.put(type, switch (type) {
                case "sliding_attention" -> Masks.createSlidingWindowCausalMask(mi, c.slidingWindow);
                case "chunked_attention" -> causal ? Masks.createChunkedCausalMask(mi, c.attentionChunkSize) : Masks.createCausalMask(mi);
                default -> Masks.createCausalMask(mi);
            });
        }
        Map<String, Object> slidingKwargs = withCausal(kwargs, causal);
        if (c.slidingWindow != null) slidingKwargs.put("sliding_window", c.slidingWindow);
        Map<String, Object> plainKwargs = withCausal(kwargs, causal);
        for (int l = 0; l < layers.length; l++) {
            Layer L = layers[l];
            Object mask = masks.get(c.layerTypes[l]);
            Map<String, Object> kw = c.layerTypes[l].equals("sliding_attention") ? slidingKwargs : plainKwargs;
            float[] h = Norms.rmsNorm(x, T, D, L.inNorm, c.rmsNormEps);      // (T, D)
            float[] qkv = L.qkv.forward(h, T);                               // (T, (H+2Hkv)·Dh)
            FloatTensor q = batch.toHeads(qkv, qkvWidth, 0, H, Dh);           // (B, H, S, Dh)
            FloatTensor k = batch.toHeads(qkv, qkvWidth, H * Dh, Hkv, Dh);     // (B, Hkv, S, Dh)
            FloatTensor v = batch.toHeads(qkv, qkvWidth, (H + Hkv) * Dh, Hkv, Dh);
            RotaryEmbedding.apply(q, positions, table);
            RotaryEmbedding.apply(k, positions, table);
            float[] a = batch.fromHeads(fn.apply(L.module, q, k, v, mask, kw).output()); // (T, H·Dh)
            float[] o = L.o.forward(a, T);                                   // (T, D)
            for (int i = 0; i < o.length; i++) x[i] += o[i];
            h = Norms.rmsNorm(x, T, D, L.postNorm, c.rmsNormEps);
            float[] gu = L.gateUp.forward(h, T);                             // (T, 2I): gate | up
            int I = c.intermediate;
            float[] act = new float[T * I];                                  // (T, I)
            for (int t = 0; t < T; t++) {
                for (int i = 0; i < I; i++) {
                    float g = gu[t * 2 * I + i];
                    act[t * I + i] = g / (1f + (float) Math.exp(-g)) * gu[t * 2 * I + I + i];
                }
            }
            float[] y = L.down.forward(act, T);                              // (T, D)
            for (int i = 0; i < y.length; i++) x[i] += y[i];
        }
        return Norms.rmsNorm(x, T, D, finalNorm, c.rmsNormEps);
    }

    /** The module's isCausal is the config's; a per-call override travels in kwargs like HF's is_causal. */
    private static Map<String, Object> withCausal(Map<String, Object> kwargs, boolean causal) {
        java.util.HashMap<String, Object> m = kwargs == null ? new java.util.HashMap<>() : new java.util.HashMap<>(kwargs);
        m.put("is_causal", causal);
        return m;
    }

    /** Logits for the given packed rows of hidden states: (rows, V). */
    public float[] logits(float[] hidden, int rows) {
        return lmHead.forward(hidden, rows);
    }
}
