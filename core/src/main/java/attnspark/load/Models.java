package attnspark.load;

import attnspark.api.ModelOptions;
import attnspark.api.ScoringMode;
import attnspark.api.TextEmbedder;
import attnspark.api.TextScorer;
import attnspark.attention.hub.HubKernels;
import attnspark.attention.hub.KernelSource;
import attnspark.checkpoint.BundledModel;
import attnspark.checkpoint.ModelFiles;
import attnspark.models.AttentionModel;
import attnspark.models.AttnImplementation;
import attnspark.models.HfConfig;
import attnspark.models.SentenceEmbedder;
import attnspark.models.bert.BertModel;
import attnspark.models.llama.CausalLmScorer;
import attnspark.models.llama.LlamaModel;
import attnspark.tokenizer.TextTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Entry point for the Spark side and the CLI: builds embedders and scorers from options.
 * Loading reads local files only (or the bundled model on the classpath); no network.
 */
public final class Models {
    private static final Set<String> LLAMA_TYPES = Set.of("llama", "mistral", "qwen2");
    private static final Set<String> BERT_TYPES = Set.of("bert", "roberta", "xlm-roberta", "camembert");

    private Models() {}

    public static TextEmbedder loadEmbedder(ModelOptions o) {
        Path dir = o.modelDir() == null ? BundledModel.materialize() : existingDir(o.modelDir());
        Path onnx = findOnnx(dir);
        HfConfig config = o.modelDir() == null ? bundledConfig() : configFor(dir, onnx);
        String type = config.modelType();
        boolean llama = LLAMA_TYPES.contains(type);
        if (!llama && !BERT_TYPES.contains(type) && !type.isEmpty()) {
            throw new IllegalArgumentException(
                    config.source() + ": model_type '" + type + "' cannot embed yet; supported: " + BERT_TYPES
                            + " and, with --bidirectional or last pooling, " + LLAMA_TYPES);
        }
        // the small sentence-transformers files before the weights: a broken one fails in milliseconds
        boolean causalDecoder = llama && !o.bidirectional();
        String pooling = o.pooling() != null
                ? o.pooling()
                : config.getString("pooling", SentenceTransformersFiles.pooling(dir, causalDecoder ? "last" : "mean"));
        boolean normalize = o.normalize() != null
                ? o.normalize()
                : config.has("normalize")
                        ? config.getBool("normalize", true)
                        : SentenceTransformersFiles.normalize(dir, true);
        int stMaxSeqLength = SentenceTransformersFiles.maxSeqLength(dir, 0); // 0: the file does not say
        HfConfig modelConfig = llama && o.bidirectional() ? config.with("is_causal", false) : config;
        AttentionModel model = llama
                ? build(o, top -> LlamaModel.fromPretrained(modelConfig, dir, top))
                : build(o, top -> BertModel.fromPretrained(modelConfig, onnx != null ? onnx : dir, top));
        int maxLength = o.maxLength() > 0
                ? o.maxLength()
                : config.getInt(
                        "max_seq_length", stMaxSeqLength > 0 ? stMaxSeqLength : Math.min(512, model.maxPositions()));
        if (maxLength > model.maxPositions()) {
            throw new IllegalArgumentException(
                    "--max-length " + maxLength + " exceeds the model's " + model.maxPositions() + " positions");
        }
        TextTokenizer tok = tokenizerFor(dir, maxLength, config);
        return new SentenceEmbedder(model, tok, pooling, normalize, budget(o), Map.of());
    }

    public static TextScorer loadScorer(ModelOptions o) {
        if (o.modelDir() == null) {
            throw new IllegalArgumentException(
                    "score needs --model DIR: a causal LM in HF format (config.json, *.safetensors, tokenizer.json)");
        }
        Path dir = existingDir(o.modelDir());
        HfConfig config = HfConfig.read(dir.resolve("config.json"));
        if (!LLAMA_TYPES.contains(config.modelType())) {
            throw new IllegalArgumentException(config.source() + ": model_type '" + config.modelType()
                    + "' cannot score; supported causal LMs: " + LLAMA_TYPES);
        }
        if (o.attentionChunk() > 0) config = config.with("attention_chunk_size", o.attentionChunk());
        HfConfig c = config;
        LlamaModel model = build(o, top -> LlamaModel.fromPretrained(c, dir, top));
        int bos = c.raw("bos_token_id") instanceof Number n ? n.intValue() : -1;
        ScoringMode mode = o.mode() == null ? ScoringMode.FULL : o.mode();
        String misfit = mode.misfit(o.window(), o.stride());
        if (misfit != null) throw new IllegalArgumentException(misfit);
        if (o.attentionChunk() > 0) {
            return chunkedScorer(o, mode, model, dir, c, bos);
        }
        if (mode == ScoringMode.FULL) {
            int maxLength = o.maxLength() > 0 ? o.maxLength() : model.maxPositions();
            if (maxLength > model.maxPositions()) {
                throw new IllegalArgumentException(
                        "--max-length " + maxLength + " exceeds the model's " + model.maxPositions() + " positions");
            }
            return new CausalLmScorer(
                    model, tokenizerFor(dir, maxLength, c), budget(o), Map.of(), CausalLmScorer.Recipe.full(bos));
        }
        // windowed recipes read whole documents: no truncation unless --max-length asks for it
        int maxLength = o.maxLength() > 0 ? o.maxLength() : Integer.MAX_VALUE / 4;
        CausalLmScorer.Recipe recipe = mode == ScoringMode.HF_STRIDED
                ? CausalLmScorer.Recipe.hfStrided(o.window(), o.stride(), bos)
                // HFLM.prefix_token_id: BOS, else EOS
                : CausalLmScorer.Recipe.lmEvalRolling(
                        o.window(), bos >= 0 ? bos : c.raw("eos_token_id") instanceof Number e ? e.intValue() : -1);
        return new CausalLmScorer(model, tokenizerFor(dir, maxLength, c), budget(o), Map.of(), recipe);
    }

    /**
     * Full mode with chunked causal attention ({@code --attention-chunk N}): each token attends only
     * to the earlier tokens of its own N-token chunk, and RoPE makes attention depend on relative
     * positions only, so with N within the model's positions no attention span goes beyond what the
     * model was trained on and documents are scored whole, however long ({@link LlamaModel#attentionSpan}).
     * Anything else that would still have to truncate is refused with the modes that read long documents.
     */
    private static TextScorer chunkedScorer(
            ModelOptions o, ScoringMode mode, LlamaModel model, Path dir, HfConfig c, int bos) {
        String longDocs = "; for documents longer than the model use --mode hf-strided --window W --stride S"
                + " or --mode lm-eval-rolling --window L";
        if (mode != ScoringMode.FULL) {
            throw new IllegalArgumentException("use either --attention-chunk (full mode, whole documents) or --mode "
                    + mode.cliName() + ", not both");
        }
        if (o.attentionChunk() > model.maxPositions()) {
            throw new IllegalArgumentException("--attention-chunk " + o.attentionChunk() + " exceeds the model's "
                    + model.maxPositions()
                    + " positions: chunks that long attend over spans the model was never trained on;"
                    + " use --attention-chunk " + model.maxPositions() + " or less" + longDocs);
        }
        if (model.attentionSpan(Integer.MAX_VALUE) > model.maxPositions()) {
            throw new IllegalArgumentException(
                    "--attention-chunk " + o.attentionChunk() + " cannot bound every attention"
                            + " of this model (--attn " + model.attnImplementation()
                            + " or its layer_types attend beyond a chunk:"
                            + " paged|* backends and full/sliding layers do), so long documents would still be truncated"
                            + longDocs);
        }
        int maxLength = o.maxLength() > 0 ? o.maxLength() : Integer.MAX_VALUE / 4; // whole documents
        return new CausalLmScorer(
                model, tokenizerFor(dir, maxLength, c), budget(o), Map.of(), CausalLmScorer.Recipe.full(bos));
    }

    /**
     * Builds the model with the options' kernel source in scope (so a hub name such as
     * kernels-community/flash-attn2 loads from --kernels-dir with --allow-all-kernels), then
     * applies a per-sub-config --attn (key=name,...) once the model exists.
     */
    private static <M extends AttentionModel> M build(ModelOptions o, Function<String, M> load) {
        AttnImplementation attn = AttnImplementation.parse(o.attn() == null ? "sdpa" : o.attn());
        KernelSource source = o.kernelSource();
        M model = HubKernels.withSource(source, () -> load.apply(attn.forKey("", "sdpa")));
        model.setKernelSource(source);
        if (!attn.isSingle()) model.setAttnImplementation(attn);
        return model;
    }

    /**
     * The directory's tokenizer, refused when it can emit ids beyond the model's embedding table
     * (a tokenizer.json from another model): every row would otherwise fail, or worse, read
     * past the table.
     */
    private static TextTokenizer tokenizerFor(Path dir, int maxLength, HfConfig config) {
        TextTokenizer tok = new TextTokenizer(dir.resolve("tokenizer.json"), maxLength);
        int vocab = config.getInt("vocab_size", 0, 1);
        if (tok.maxTokenId() >= vocab) {
            tok.close();
            throw new IllegalArgumentException(
                    dir.resolve("tokenizer.json") + ": the tokenizer has ids up to " + tok.maxTokenId()
                            + " but " + config.source() + " says vocab_size = " + vocab
                            + "; the tokenizer and the weights come from"
                            + " different models: use the tokenizer.json saved with these weights.");
        }
        return tok;
    }

    private static int budget(ModelOptions o) {
        return o.batchTokens() > 0 ? o.batchTokens() : 8192;
    }

    private static Path existingDir(String d) {
        Path p = Path.of(d);
        if (!Files.isDirectory(p)) throw new IllegalArgumentException("--model " + d + ": not a directory");
        return p;
    }

    /** model.onnx, onnx/model.onnx, or the single *.onnx in the directory; null for safetensors models. */
    public static Path findOnnx(Path dir) {
        for (Path p : List.of(dir.resolve("model.onnx"), dir.resolve("onnx").resolve("model.onnx"))) {
            if (ModelFiles.exists(p)) {
                ModelFiles.requireRegularFile(p, "ONNX model");
                return p;
            }
        }
        List<Path> found = ModelFiles.glob(dir, "*.onnx", "ONNX model");
        if (found.size() > 1) {
            throw new IllegalArgumentException(
                    dir + ": several .onnx files " + ModelFiles.capped(found) + "; keep one or name it model.onnx");
        }
        return found.isEmpty() ? null : found.get(0);
    }

    private static HfConfig configFor(Path dir, Path onnx) {
        Path cfg = dir.resolve("config.json");
        if (ModelFiles.exists(cfg)) return HfConfig.read(cfg);
        if (onnx != null) {
            return OnnxConfigInference.infer(onnx, dir);
        }
        return HfConfig.read(cfg);
    }

    @SuppressWarnings("unchecked")
    private static HfConfig bundledConfig() {
        try (InputStream in = Models.class.getResourceAsStream("/attnspark/bundled/all-minilm-l6-v2-config.json")) {
            return new HfConfig(new ObjectMapper().readValue(in, Map.class), "bundled all-MiniLM-L6-v2 config");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
