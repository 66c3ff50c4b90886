package attnspark.api;

import java.io.Serializable;

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
public record ModelOptions(String modelDir, String attn, int maxLength, String pooling, Boolean normalize,
                           int batchTokens, boolean bidirectional, int attentionChunk, int window, int stride,
                           ScoringMode mode, String kernelsDir, boolean allowAllKernels)
        implements Serializable {

    public static ModelOptions defaults() {
        return new ModelOptions(null, "sdpa", 0, null, null, 8192, false, 0, 0, 0, ScoringMode.FULL, null, false);
    }

    public ModelOptions withModelDir(String dir) {
        return new ModelOptions(dir, attn, maxLength, pooling, normalize, batchTokens, bidirectional, attentionChunk, window, stride, mode, kernelsDir, allowAllKernels);
    }

    public ModelOptions withAttn(String a) {
        return new ModelOptions(modelDir, a, maxLength, pooling, normalize, batchTokens, bidirectional, attentionChunk, window, stride, mode, kernelsDir, allowAllKernels);
    }

    public ModelOptions withMaxLength(int n) {
        return new ModelOptions(modelDir, attn, n, pooling, normalize, batchTokens, bidirectional, attentionChunk, window, stride, mode, kernelsDir, allowAllKernels);
    }

    public ModelOptions withPooling(String p) {
        return new ModelOptions(modelDir, attn, maxLength, p, normalize, batchTokens, bidirectional, attentionChunk, window, stride, mode, kernelsDir, allowAllKernels);
    }

    public ModelOptions withNormalize(Boolean n) {
        return new ModelOptions(modelDir, attn, maxLength, pooling, n, batchTokens, bidirectional, attentionChunk, window, stride, mode, kernelsDir, allowAllKernels);
    }

    public ModelOptions withBatchTokens(int n) {
        return new ModelOptions(modelDir, attn, maxLength, pooling, normalize, n, bidirectional, attentionChunk, window, stride, mode, kernelsDir, allowAllKernels);
    }

    public ModelOptions withBidirectional(boolean b) {
        return new ModelOptions(modelDir, attn, maxLength, pooling, normalize, batchTokens, b, attentionChunk, window, stride, mode, kernelsDir, allowAllKernels);
    }

    public ModelOptions withAttentionChunk(int c) {
        return new ModelOptions(modelDir, attn, maxLength, pooling, normalize, batchTokens, bidirectional, c, window, stride, mode, kernelsDir, allowAllKernels);
    }

    /** HF's strided recipe with a W-token window moving by S tokens ({@code w == 0}: back to full mode). */
    public ModelOptions withWindow(int w, int s) {
        return withScoring(w > 0 ? ScoringMode.HF_STRIDED : ScoringMode.FULL, w, s);
    }

    /** The scoring mode and its window ({@code stride} only for hf-strided; 0 otherwise). */
    public ModelOptions withScoring(ScoringMode m, int w, int s) {
        return new ModelOptions(modelDir, attn, maxLength, pooling, normalize, batchTokens, bidirectional, attentionChunk, w, s, m, kernelsDir, allowAllKernels);
    }

    public ModelOptions withKernelsDir(String dir) {
        return new ModelOptions(modelDir, attn, maxLength, pooling, normalize, batchTokens, bidirectional, attentionChunk, window, stride, mode, dir, allowAllKernels);
    }

    public ModelOptions withAllowAllKernels(boolean allow) {
        return new ModelOptions(modelDir, attn, maxLength, pooling, normalize, batchTokens, bidirectional, attentionChunk, window, stride, mode, kernelsDir, allow);
    }

    /** Where hub kernel names resolve from on this JVM. */
    public attnspark.attention.hub.KernelSource kernelSource() {
        return new attnspark.attention.hub.KernelSource(kernelsDir == null ? null : java.nio.file.Path.of(kernelsDir), allowAllKernels);
    }
}
