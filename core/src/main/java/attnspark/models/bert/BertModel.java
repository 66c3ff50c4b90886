package attnspark.models.bert;

import attnspark.attention.AttentionFunction;
import attnspark.attention.AttentionMask;
import attnspark.attention.AttentionModule;
import attnspark.attention.SdpaAttention;
import attnspark.attention.dispatch.Masks;
import attnspark.batch.TokenBatch;
import attnspark.checkpoint.Checkpoint;
import attnspark.checkpoint.OnnxCheckpoint;
import attnspark.checkpoint.SafeTensorsCheckpoint;
import attnspark.kernels.AlignedFloats;
import attnspark.kernels.Epilogue;
import attnspark.kernels.FloatSpan;
import attnspark.kernels.Linear;
import attnspark.kernels.Parallel;
import attnspark.models.Activations;
import attnspark.models.AttentionModel;
import attnspark.models.HfConfig;
import attnspark.models.ModelPreflight;
import attnspark.models.Norms;
import attnspark.models.SequenceBatch;
import attnspark.models.Weights;
import attnspark.tensor.FloatTensor;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;

/**
 * BERT-family encoder (HF modeling_bert): absolute positions, token types, post-LayerNorm,
 * GELU MLP, bidirectional attention through the registry. Activations stay packed (T, ·).
 */
public final class BertModel extends AttentionModel {
    public record Config(
            int vocabSize,
            int hidden,
            int layers,
            int heads,
            int intermediate,
            int maxPositions,
            int typeVocab,
            float layerNormEps,
            String hiddenAct,
            int positionOffset) {
        /** RoBERTa-style models number positions from padding_idx + 1 (HF create_position_ids_from_input_ids). */
        static final Set<String> ROBERTA_TYPES = Set.of("roberta", "xlm-roberta", "camembert");

        public static Config from(HfConfig c) {
            int offset = ROBERTA_TYPES.contains(c.modelType()) ? c.getInt("pad_token_id", 1) + 1 : 0;
            return new Config(
                    c.getInt("vocab_size"),
                    c.getInt("hidden_size"),
                    c.getInt("num_hidden_layers"),
                    c.getInt("num_attention_heads"),
                    c.getInt("intermediate_size"),
                    c.getInt("max_position_embeddings", 512),
                    c.getInt("type_vocab_size", 2),
                    (float) c.getDouble("layer_norm_eps", 1e-12),
                    c.getString("hidden_act", "gelu"),
                    offset);
        }

        int headDim() {
            return hidden / heads;
        }
    }

    private record Layer(
            Linear qkv,
            Linear attnOut,
            float[] ln1w,
            float[] ln1b,
            Linear up,
            Linear down,
            float[] ln2w,
            float[] ln2b,
            AttentionModule module) {}

    public final Config config;
    private final ThreadLocal<Arena> arena = ThreadLocal.withInitial(Arena::new);
    private final float[] wordEmb, posEmb, typeEmb, embLnW, embLnB; // (V,D) (P,D) (types,D) (D) (D)
    private final Layer[] layers;

    public BertModel(Config cfg, Weights w, String attnImplementation) {
        super(attnImplementation);
        if (cfg.hidden % cfg.heads != 0) {
            throw new IllegalArgumentException(
                    "hidden_size " + cfg.hidden + " is not a multiple of num_attention_heads " + cfg.heads);
        }
        this.config = cfg;
        int D = cfg.hidden;
        wordEmb = w.get("embeddings.word_embeddings.weight", cfg.vocabSize, D).data;
        posEmb = w.get("embeddings.position_embeddings.weight", cfg.maxPositions, D).data;
        typeEmb = w.get("embeddings.token_type_embeddings.weight", cfg.typeVocab, D).data;
        embLnW = w.get("embeddings.LayerNorm.weight", D).data;
        embLnB = w.get("embeddings.LayerNorm.bias", D).data;
        layers = new Layer[cfg.layers];
        float scaling = (float) (1.0 / Math.sqrt(cfg.headDim()));
        for (int l = 0; l < cfg.layers; l++) {
            String p = "encoder.layer." + l + ".";
            layers[l] = new Layer(
                    w.fusedLinear(
                            D,
                            new String[] {
                                p + "attention.self.query", p + "attention.self.key", p + "attention.self.value"
                            },
                            new int[] {D, D, D}),
                    w.linear(p + "attention.output.dense", D, D, true),
                    w.get(p + "attention.output.LayerNorm.weight", D).data,
                    w.get(p + "attention.output.LayerNorm.bias", D).data,
                    w.linear(p + "intermediate.dense", cfg.intermediate, D, true),
                    w.linear(p + "output.dense", D, cfg.intermediate, true),
                    w.get(p + "output.LayerNorm.weight", D).data,
                    w.get(p + "output.LayerNorm.bias", D).data,
                    AttentionModule.of(false, l, 1, scaling));
        }
        // buffers and the pooler are not used for embeddings; MLM / NSP / classification heads of
        // e.g. bert-base-uncased (BertForPreTraining) or roberta-base (lm_head) are not either
        w.checkNoneUnexpected(
                Set.of(
                        "embeddings.position_ids",
                        "embeddings.token_type_ids",
                        "pooler.dense.weight",
                        "pooler.dense.bias"),
                Set.of("cls.*", "lm_head.*", "classifier.*", "qa_outputs.*"));
    }

    /**
     * An HF BERT directory: config.json with model.safetensors (or shards), or an ONNX export
     * (model.onnx, onnx/model.onnx or one *.onnx) whose MatMul weights are mapped back to HF names.
     */
    public static BertModel fromPretrained(HfConfig config, Path weights, String attnImplementation) {
        Checkpoint ck = weights.toString().endsWith(".onnx")
                ? OnnxCheckpoint.open(weights)
                : SafeTensorsCheckpoint.open(weights);
        try {
            String prefix = "";
            for (String p : new String[] {"bert.", "roberta."}) {
                if (ck.names().contains(p + "embeddings.word_embeddings.weight")) prefix = p;
            }
            ModelPreflight.checkBert(config, ck, prefix);
            return new BertModel(Config.from(config), new Weights(ck, prefix), attnImplementation);
        } finally {
            ck.close();
        }
    }

    public int hiddenSize() {
        return config.hidden;
    }

    public int maxPositions() {
        return config.maxPositions - config.positionOffset;
    }

    /** Last hidden state, packed: (T, hidden). kwargs reach the attention function unchanged. */
    public float[] forward(SequenceBatch batch, Map<String, Object> kwargs) {
        FloatSpan x = hiddenStates(batch, kwargs);
        // the packed path's states are in this thread's arena, which its next forward overwrites
        return x.array() == arena.get().x.array()
                ? Arrays.copyOfRange(x.array(), x.offset(), x.offset() + x.length())
                : x.array();
    }

    /** Pooling reads the packed path's hidden states in this thread's arena, not a copy of them. */
    @Override
    public FloatSpan hiddenStates(TokenBatch batch, Map<String, Object> kwargs) {
        return hiddenStates(SequenceBatch.of(batch), kwargs);
    }

    /** (T, hidden): a span of this thread's arena on the packed path (valid until its next forward), else a new array. */
    private FloatSpan hiddenStates(SequenceBatch batch, Map<String, Object> kwargs) {
        Config c = config;
        int T = batch.totalTokens, D = c.hidden, H = c.heads, Dh = c.headDim();
        if (batch.continuesCache()) {
            throw new IllegalArgumentException(
                    "BertModel is an encoder without a KV cache: every sequence must start at position 0");
        }
        for (int b = 0; b < batch.batch; b++) {
            if (batch.length(b) + c.positionOffset > c.maxPositions) {
                throw new IllegalArgumentException(
                        "sequence " + b + " has " + batch.length(b) + " tokens but the model has "
                                + (c.maxPositions - c.positionOffset) + " positions; truncate to max length");
            }
        }
        for (int b = 0; b < batch.batch; b++) {
            for (int s = 0; s < batch.length(b); s++) {
                int id = batch.ids[b][s];
                if (id < 0 || id >= c.vocabSize)
                    throw new IllegalArgumentException("token id " + id + " outside vocab " + c.vocabSize);
            }
        }
        String attn = attnImplementation();
        AttentionFunction fn = attentionFunctions.get(attn);
        if (SdpaAttention.packedEquivalent(fn, maskFunctions.lookup(attn), kwargs)) {
            Arena a = arena.get().fit(T, D, c.intermediate);
            embeddings(batch, a.x);
            packedLayers(a, batch);
            return new FloatSpan(a.x.array(), a.x.offset(), T * D);
        }
        float[] x = new float[T * D]; // (T, D)
        embeddings(batch, FloatSpan.of(x));
        AttentionMask mask = Masks.createBidirectionalMask(
                Masks.MaskInputs.of(attn, batch.batch, batch.maxLength, batch.paddingMask())
                        .withMaskInterface(maskFunctions)
                        .withCausal(false));
        for (Layer L : layers) {
            float[] qkv = L.qkv.forward(x, T); // (T, 3D)
            FloatTensor q = batch.toHeads(qkv, 3 * D, 0, H, Dh); // (B, H, S, Dh)
            FloatTensor k = batch.toHeads(qkv, 3 * D, D, H, Dh);
            FloatTensor v = batch.toHeads(qkv, 3 * D, 2 * D, H, Dh);
            float[] a =
                    batch.fromHeads(fn.apply(L.module, q, k, v, mask, kwargs).output()); // (T, D)
            float[] o = L.attnOut.forward(a, T); // (T, D)
            for (int i = 0; i < o.length; i++) x[i] += o[i];
            Norms.layerNorm(x, T, D, L.ln1w, L.ln1b, c.layerNormEps);
            float[] h = L.up.forward(x, T); // (T, I)
            Activations.apply(c.hiddenAct, h);
            float[] y = L.down.forward(h, T); // (T, D)
            for (int i = 0; i < y.length; i++) x[i] += y[i];
            Norms.layerNorm(x, T, D, L.ln2w, L.ln2b, c.layerNormEps);
        }
        return FloatSpan.of(x);
    }

    /** x (T, D) from its offset = LayerNorm(word + position + token type embeddings) (HF BertEmbeddings). */
    private void embeddings(SequenceBatch batch, FloatSpan xs) {
        Config c = config;
        int D = c.hidden;
        float[] x = xs.array();
        int x0 = xs.offset();
        // on all threads: the caller alone spent ~0.5 % of an STS-B pass here with the other core idle
        Parallel.forRange(batch.batch, 16, (from, to) -> {
            for (int b = from; b < to; b++) {
                for (int s = 0; s < batch.length(b); s++) {
                    int id = batch.ids[b][s], t = x0 + (batch.offsets[b] + s) * D;
                    for (int d = 0; d < D; d++)
                        x[t + d] = wordEmb[id * D + d] + posEmb[(s + c.positionOffset) * D + d] + typeEmb[d];
                }
            }
        });
        Norms.addLayerNorm(xs, null, batch.totalTokens, D, embLnW, embLnB, c.layerNormEps);
    }

    /**
     * The encoder layers on packed tokens, for sdpa (see {@link SdpaAttention#packedEquivalent}):
     * no padded (B, H, S, D) copies, attention per (sequence, head) on the fused q|k|v rows,
     * activations in this thread's arena, bias + GELU fused into the up projection and the
     * residual add into LayerNorm. Every step computes a token's row from its own sequence only,
     * with a fixed order of operations, so a text's bits do not depend on its batch. The hidden
     * states a.x go in as the embeddings and come out as the last layer's.
     */
    private void packedLayers(Arena a, SequenceBatch batch) {
        Config c = config;
        int T = batch.totalTokens, D = c.hidden, I = c.intermediate;
        FloatSpan x = a.x;
        Epilogue fusedAct = Activations.fused(c.hiddenAct);
        for (Layer L : layers) {
            L.qkv.forward(x, T, a.qkv, Epilogue.NONE); // (T, 3D)
            SdpaAttention.packedBidirectional(
                    a.qkv, batch.offsets, batch.batch, c.heads, c.headDim(), L.module.scaling(), a.attn); // (T, D)
            L.attnOut.forward(a.attn, T, a.out, Epilogue.NONE); // (T, D)
            Norms.addLayerNorm(x, a.out, T, D, L.ln1w, L.ln1b, c.layerNormEps); // x = LN(x + out)
            L.up.forward(x, T, a.mlp, fusedAct == null ? Epilogue.NONE : fusedAct); // (T, I)
            if (fusedAct == null) Activations.apply(c.hiddenAct, a.mlp, T * I);
            L.down.forward(a.mlp, T, a.out, Epilogue.NONE); // (T, D)
            Norms.addLayerNorm(x, a.out, T, D, L.ln2w, L.ln2b, c.layerNormEps);
        }
    }

    /**
     * Activation buffers of one thread, grown to the largest batch it has run and reused across
     * layers and batches. Each starts on a 64-byte line (AlignedFloats), and so does every row of
     * a width that is a multiple of 16 floats (MiniLM's 384, 1,152 and 1,536): the kernels' 64-byte
     * loads and stores then touch one line each, not two. MiniLM's four linears at 16,384 rows
     * ran in 0.89-0.97x the time with x, y and their k-step buffer on lines rather than 16 bytes
     * past one (a newer Xeon, in-JVM alternation, same bits).
     */
    private static final class Arena {
        FloatSpan x = FloatSpan.EMPTY,
                qkv = FloatSpan.EMPTY,
                attn = FloatSpan.EMPTY,
                out = FloatSpan.EMPTY,
                mlp = FloatSpan.EMPTY;

        Arena fit(int tokens, int hidden, int intermediate) {
            x = AlignedFloats.atLeast(x, tokens, hidden);
            qkv = AlignedFloats.atLeast(qkv, tokens, 3 * hidden);
            attn = AlignedFloats.atLeast(attn, tokens, hidden);
            out = AlignedFloats.atLeast(out, tokens, hidden);
            mlp = AlignedFloats.atLeast(mlp, tokens, intermediate);
            return this;
        }
    }
}
