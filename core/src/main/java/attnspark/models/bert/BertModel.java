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
import attnspark.kernels.CpuInfo;
import attnspark.kernels.Epilogue;
import attnspark.kernels.FloatSpan;
import attnspark.kernels.Linear;
import attnspark.kernels.Parallel;
import attnspark.kernels.ThreadScratch;
import attnspark.models.Activations;
import attnspark.models.AttentionModel;
import attnspark.models.HfConfig;
import attnspark.models.ModelPreflight;
import attnspark.models.Norms;
import attnspark.models.SequenceBatch;
import attnspark.models.SequenceGroup;
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
    private final boolean rowInvariant; // every linear's rows computed alike whatever their batch (Linear.rowInvariant)

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
        boolean invariant = true;
        for (Layer L : layers)
            invariant &=
                    L.qkv.rowInvariant() && L.attnOut.rowInvariant() && L.up.rowInvariant() && L.down.rowInvariant();
        rowInvariant = invariant;
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
            Arena a = arena.get().fit(T, D);
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
        if (rowInvariant) {
            SequenceGroup[] groups = SequenceGroup.of(batch.offsets, batch.batch, groupRows(I));
            if (groups.length >= 4 * Parallel.threads()) {
                for (Layer L : layers) layerByGroups(L, x, groups, fusedAct);
                return;
            }
        }
        a.fitWholeBatch(T, D);
        for (Layer L : layers) {
            L.qkv.forward(x, T, a.qkv, Epilogue.NONE); // (T, 3D)
            SdpaAttention.packedBidirectional(
                    a.qkv, batch.offsets, batch.batch, c.heads, c.headDim(), L.module.scaling(), a.attn); // (T, D)
            L.attnOut.forward(a.attn, T, a.out, Epilogue.NONE); // (T, D)
            Norms.addLayerNorm(x, a.out, T, D, L.ln1w, L.ln1b, c.layerNormEps); // x = LN(x + out)
            if (rowInvariant) {
                feedForwardByBlocks(L, x, T, a.out, fusedAct); // (T, D)
            } else {
                a.mlp = AlignedFloats.atLeast(a.mlp, T, I);
                feedForward(L, x, T, a.mlp, a.out, fusedAct); // (T, D), through (T, I)
            }
            Norms.addLayerNorm(x, a.out, T, D, L.ln2w, L.ln2b, c.layerNormEps);
        }
    }

    /**
     * One layer over groups of whole sequences, each group on one thread from its q|k|v
     * projection through LayerNorm 2, in a per-thread buffer that stays in that core's L2: the
     * batch-wide (T, 3D) q|k|v, attention and projection matrices (125 MB for MiniLM at 16,384
     * tokens) went out to L3 and came back between the steps, each line fetched for ownership
     * before the stores. A sequence is never split, the linears are row-invariant and attention
     * reads a sequence's own rows: a row's bits do not depend on its group. Layer by layer over
     * all groups (the layer's weights stay in L3 while both cores work through its groups): each
     * group through all six layers in turn read MiniLM's 42 MB of weights from memory for every
     * group and ran 1.08x the time. Measured on a newer Xeon (family 6 model 167, 2 MiB L2),
     * in-JVM alternation, the same hashes: whole passes 0.94-0.96x the time on short texts and
     * 0.96-0.97x on 256-token documents, with groups of 168 or 336 rows alike (96: 1.05x).
     * One parallel loop per layer: a single loop over (layer, group) items, each waiting only for
     * its group's previous layer, ran 0.985-0.991x the time in process; its 20,000-text job kept 0.84
     * of the in-process median (pairs with the pass before each run 0.88 / 0.75 / 0.85), this code
     * 0.90 and 0.84 in two runs (pairs 0.92 / 0.88 / 0.88 and 0.89 / 0.89 / 0.89): no gain shown,
     * and such a loop holds a Spark task's borrowed idle core for a whole batch (TaskThreads' count
     * is read as each loop starts), so it was not kept.
     */
    private void layerByGroups(Layer L, FloatSpan x, SequenceGroup[] groups, Epilogue fusedAct) {
        Config c = config;
        int D = c.hidden, I = c.intermediate, block = mlpBlockRows(I);
        int most = (groups[0].rows() + 15) / 16 * 16; // largest first; whole lines for each part
        Parallel.forEachItem(groups.length, () -> GROUP.atLeast(5 * most * D + block * I), (buf, gi) -> {
            SequenceGroup g = groups[gi];
            int n = g.rows(), o = buf.offset();
            float[] b = buf.array();
            FloatSpan xs = rows(x, g.firstRow(), n, D);
            FloatSpan qkv = new FloatSpan(b, o, n * 3 * D),
                    attn = new FloatSpan(b, o + 3 * most * D, n * D),
                    out = new FloatSpan(b, o + 4 * most * D, n * D),
                    mlp = new FloatSpan(b, o + 5 * most * D, block * I);
            try (Parallel.Scope one = Parallel.onThisThread()) {
                L.qkv.forward(xs, n, qkv, Epilogue.NONE); // (n, 3D)
                SdpaAttention.packedBidirectional(
                        qkv, g.cuSeqlens(), g.sequences(), c.heads, c.headDim(), L.module.scaling(), attn); // (n, D)
                L.attnOut.forward(attn, n, out, Epilogue.NONE); // (n, D)
                Norms.addLayerNorm(xs, out, n, D, L.ln1w, L.ln1b, c.layerNormEps); // x = LN(x + out)
                // blocks of equal size, whole 8-row tiles: a 256-token sequence as 2 x 128, not 168 + 88
                int blocks = (n + block - 1) / block, each = ((n + blocks - 1) / blocks + 7) / 8 * 8;
                for (int r0 = 0; r0 < n; r0 += each) {
                    int m = Math.min(each, n - r0);
                    feedForward(L, rows(xs, r0, m, D), m, mlp, rows(out, r0, m, D), fusedAct); // (m, D)
                }
                Norms.addLayerNorm(xs, out, n, D, L.ln2w, L.ln2b, c.layerNormEps);
            }
        });
    }

    private static final ThreadScratch GROUP = new ThreadScratch(); // each thread's q|k|v, attention, out, MLP block

    /**
     * out = down(act(up(x))) over T rows of width D, a block of rows at a time, each block on one
     * thread from the up projection through the down projection: the block's (rows, I) activations
     * stay in that core's L2, where the whole (T, I) matrix (100 MB for MiniLM at 16,384 tokens)
     * went out to L3 and came back, each of its lines fetched for ownership before the up
     * projection's stores. The linears are row-invariant, so a row's bits do not depend on its
     * block. On a newer Xeon (family 6 model 167, 2 MiB L2), the up projection's tile in the
     * engine's loop order ran at 144 GFLOP/s a core storing into one block's rows and 126 storing
     * down a 100 MB matrix; whole passes (in-JVM alternation, the same hashes) 0.967x the time on
     * short texts and 0.970x on 256-token documents with blocks of 168 rows (a first version:
     * 0.974x / 0.963x; with 64-row blocks 0.975x / 0.978x).
     */
    private void feedForwardByBlocks(Layer L, FloatSpan x, int T, FloatSpan out, Epilogue fusedAct) {
        int D = config.hidden, I = config.intermediate, block = mlpBlockRows(I), blocks = (T + block - 1) / block;
        Parallel.forEachItem(blocks, () -> MLP_BLOCK.atLeast(block * I), (mlp, b) -> {
            int r0 = b * block, n = Math.min(block, T - r0);
            try (Parallel.Scope one = Parallel.onThisThread()) {
                feedForward(L, rows(x, r0, n, D), n, mlp, rows(out, r0, n, D), fusedAct);
            }
        });
    }

    /** out (rows, D) = down(act(up(x))) with the (rows, I) activations in mlp. */
    private void feedForward(Layer L, FloatSpan x, int rows, FloatSpan mlp, FloatSpan out, Epilogue fusedAct) {
        L.up.forward(x, rows, mlp, fusedAct == null ? Epilogue.NONE : fusedAct); // (rows, I)
        if (fusedAct == null) Activations.apply(config.hiddenAct, mlp, rows * config.intermediate);
        L.down.forward(mlp, rows, out, Epilogue.NONE); // (rows, D)
    }

    /**
     * Rows a sequence group aims at: two MLP blocks ({@link #mlpBlockRows}), 336 for MiniLM on a
     * 2 MiB L2, whose q|k|v, attention and projection rows (2.6 MB) mostly stay in L2 between the
     * layer's steps.
     */
    public static int groupRows(int intermediate) {
        return 2 * mlpBlockRows(intermediate);
    }

    /** Rows of an MLP block: half of one core's L2 of (rows, I) activations, whole 8-row tiles. */
    public static int mlpBlockRows(int intermediate) {
        long rows = CpuInfo.l2CacheBytes() / 2 / ((long) intermediate * Float.BYTES);
        return (int) Math.max(8, Math.min(4096, rows / 8 * 8));
    }

    /** Rows r0..r0+n-1 of span, rows width floats apart. */
    private static FloatSpan rows(FloatSpan span, int r0, int n, int width) {
        return new FloatSpan(span.array(), span.offset() + r0 * width, n * width);
    }

    private static final ThreadScratch MLP_BLOCK = new ThreadScratch(); // each thread's (rows, I) block

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
                // (T, 3D), (T, D), (T, D) only for batches not run by sequence groups (few groups, BLAS)
                qkv = FloatSpan.EMPTY,
                attn = FloatSpan.EMPTY,
                out = FloatSpan.EMPTY,
                mlp = FloatSpan.EMPTY; // (T, I) only where the linears are not row-invariant (BLAS)

        Arena fit(int tokens, int hidden) {
            x = AlignedFloats.atLeast(x, tokens, hidden);
            return this;
        }

        /** The batch-wide buffers, for a batch not run by sequence groups. */
        void fitWholeBatch(int tokens, int hidden) {
            qkv = AlignedFloats.atLeast(qkv, tokens, 3 * hidden);
            attn = AlignedFloats.atLeast(attn, tokens, hidden);
            out = AlignedFloats.atLeast(out, tokens, hidden);
        }
    }
}
