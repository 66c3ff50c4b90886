package attnspark.api;

import attnspark.attention.hub.KernelSource;
import java.io.Serializable;
import java.nio.file.Path;

/**
 * Everything needed to build a model replica; serializable so a Spark job ships it to
 * executors and uses it as the replica cache key.
 *
 * @param modelDir      local directory (HF layout, or an ONNX export + tokenizer.json); null = bundled all-MiniLM-L6-v2
 * @param attn          attention implementation name ("sdpa" default, "eager", ...)
 * @param maxLength     max tokens per text, special tokens included; 0 = model default (256 for MiniLM, config max otherwise)
 * @param pooling       "mean", "cls" or "last"; null = model default
 * @param normalize     L2-normalise embeddings; null = model default (true for sentence-transformers models)
 * @param batchTokens   token budget of one forward batch
 * @param bidirectional embed with a decoder made bidirectional (config.isCausal=false)
 * @param attentionChunk score with chunked causal attention of this size; 0 = off
 * @param window         the scoring window: W of hf-strided, L of lm-eval-rolling; 0 = off (full mode)
 * @param stride         how far the hf-strided window moves (new tokens scored per window); 0 otherwise
 * @param mode           how documents become forwards when scoring ({@link ScoringMode}); FULL by default
 * @param kernelsDir     directory of attention-kernel jars for hub names (org/repo); null = class path only.
 *                       A String, not a Path: Path is not Serializable and this record travels to executors.
 * @param allowAllKernels load kernels outside the trusted kernels-community namespace
 */
public record ModelOptions(
        String modelDir,
        String attn,
        int maxLength,
        String pooling,
        Boolean normalize,
        int batchTokens,
        boolean bidirectional,
        int attentionChunk,
        int window,
        int stride,
        ScoringMode mode,
        String kernelsDir,
        boolean allowAllKernels)
        implements Serializable {

    public static ModelOptions defaults() {
        Builder next = new Builder();
        next.attn = "sdpa";
        next.batchTokens = 8192;
        next.mode = ScoringMode.FULL;
        return next.build();
    }

    public ModelOptions withModelDir(String dir) {
        Builder next = toBuilder();
        next.modelDir = dir;
        return next.build();
    }

    public ModelOptions withAttn(String a) {
        Builder next = toBuilder();
        next.attn = a;
        return next.build();
    }

    public ModelOptions withMaxLength(int n) {
        Builder next = toBuilder();
        next.maxLength = n;
        return next.build();
    }

    public ModelOptions withPooling(String p) {
        Builder next = toBuilder();
        next.pooling = p;
        return next.build();
    }

    public ModelOptions withNormalize(Boolean n) {
        Builder next = toBuilder();
        next.normalize = n;
        return next.build();
    }

    public ModelOptions withBatchTokens(int n) {
        Builder next = toBuilder();
        next.batchTokens = n;
        return next.build();
    }

    public ModelOptions withBidirectional(boolean bidirectional) {
        Builder next = toBuilder();
        next.bidirectional = bidirectional;
        return next.build();
    }

    public ModelOptions withAttentionChunk(int c) {
        Builder next = toBuilder();
        next.attentionChunk = c;
        return next.build();
    }

    /** HF's strided recipe with a W-token window moving by S tokens ({@code w == 0}: back to full mode). */
    public ModelOptions withWindow(int w, int s) {
        return withScoring(w > 0 ? ScoringMode.HF_STRIDED : ScoringMode.FULL, w, s);
    }

    /** The scoring mode and its window ({@code stride} only for hf-strided; 0 otherwise). */
    public ModelOptions withScoring(ScoringMode m, int w, int s) {
        Builder next = toBuilder();
        next.mode = m;
        next.window = w;
        next.stride = s;
        return next.build();
    }

    public ModelOptions withKernelsDir(String dir) {
        Builder next = toBuilder();
        next.kernelsDir = dir;
        return next.build();
    }

    public ModelOptions withAllowAllKernels(boolean allow) {
        Builder next = toBuilder();
        next.allowAllKernels = allow;
        return next.build();
    }

    private Builder toBuilder() {
        Builder next = new Builder();
        next.modelDir = modelDir;
        next.attn = attn;
        next.maxLength = maxLength;
        next.pooling = pooling;
        next.normalize = normalize;
        next.batchTokens = batchTokens;
        next.bidirectional = bidirectional;
        next.attentionChunk = attentionChunk;
        next.window = window;
        next.stride = stride;
        next.mode = mode;
        next.kernelsDir = kernelsDir;
        next.allowAllKernels = allowAllKernels;
        return next;
    }

    /** The one place that calls the canonical constructor: every with* method changes a copy of it. */
    private static final class Builder {
        String modelDir;
        String attn;
        int maxLength;
        String pooling;
        Boolean normalize;
        int batchTokens;
        boolean bidirectional;
        int attentionChunk;
        int window;
        int stride;
        ScoringMode mode;
        String kernelsDir;
        boolean allowAllKernels;

        ModelOptions build() {
            return new ModelOptions(
                    modelDir,
                    attn,
                    maxLength,
                    pooling,
                    normalize,
                    batchTokens,
                    bidirectional,
                    attentionChunk,
                    window,
                    stride,
                    mode,
                    kernelsDir,
                    allowAllKernels);
        }
    }

    /** Where hub kernel names resolve from on this JVM. */
    public KernelSource kernelSource() {
        return new KernelSource(kernelsDir == null ? null : Path.of(kernelsDir), allowAllKernels);
    }
}
