package attnspark.kernels;

import attnspark.tensor.FloatTensor;
import java.util.Random;
import java.util.function.BooleanSupplier;

/**
 * Runs the Vector API kernels of an encoder layer (linears with and without the fused GELU, packed
 * bidirectional attention, LayerNorm) on small random operands, so that a fresh JVM gets them
 * compiled by C2 before real work reaches them. Until C2 has compiled a kernel, each Vector API
 * operation in it runs the JDK's per-lane Java fallback, hundreds of times slower; HotSpot compiles
 * a method once it has been called and looped through often enough, so small operands get there in
 * the fewest CPU seconds. Compiled code does not depend on the operands' sizes: what the model's
 * shapes reach later is the same code, except the linears' 8-row tile, a class per input width
 * ({@link Tile8Kernel#forStride}): the model's widths compile when the model's own warm-up runs
 * them. (Running each width's tile here as the loader builds the model's linears changed nothing:
 * in the 20,000-text job they are built late in the load, and their copies reached C2 at 4.3 / 5.4 s
 * of the JVM either way, the single shared tile at 3.9 s before it.) In the 20,000-text CLI job (PrintCompilation) the attention
 * kernels reached C2 only 1-3 s after the first model tasks had started, because the model's own
 * warm-up could begin only once the model was loaded; this one needs no model and can run while it
 * loads.
 */
public final class KernelWarmUp {
    static final int HEADS = 2, HEAD_DIM = 32, HIDDEN = HEADS * HEAD_DIM, INTERMEDIATE = 4 * HIDDEN;
    /** Lengths that reach every tile of the attention (8-row, 4-row and single rows; full and partial key tiles). */
    static final int[] LENGTHS = {3, 13, 70};

    static final float SCALING = (float) (1 / Math.sqrt(HEAD_DIM));

    // weights (out, in) and biases as HF stores them, kept for tests
    final FloatTensor wQkv, bQkv, wUp, bUp, wDown, bDown;
    private final Linear qkv, up, down;
    final float[] x, lnWeight, lnBias;
    private final float[] qkvOut, upOut, attnOut;
    final int[] cuSeqlens;
    final int tokens;

    KernelWarmUp() {
        Random rnd = new Random(7);
        cuSeqlens = new int[LENGTHS.length + 1];
        for (int i = 0; i < LENGTHS.length; i++) cuSeqlens[i + 1] = cuSeqlens[i] + LENGTHS[i];
        tokens = cuSeqlens[LENGTHS.length];
        wQkv = random(rnd, 3 * HIDDEN, HIDDEN);
        bQkv = random(rnd, 3 * HIDDEN);
        wUp = random(rnd, INTERMEDIATE, HIDDEN);
        bUp = random(rnd, INTERMEDIATE);
        wDown = random(rnd, HIDDEN, INTERMEDIATE);
        bDown = random(rnd, HIDDEN);
        qkv = Kernels.linear(wQkv, bQkv);
        up = Kernels.linear(wUp, bUp);
        down = Kernels.linear(wDown, bDown);
        x = random(rnd, tokens, HIDDEN).data;
        qkvOut = new float[tokens * 3 * HIDDEN];
        upOut = new float[tokens * INTERMEDIATE];
        attnOut = new float[tokens * HIDDEN];
        lnWeight = random(rnd, HIDDEN).data;
        lnBias = random(rnd, HIDDEN).data;
    }

    private static FloatTensor random(Random rnd, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (rnd.nextGaussian() * 0.1);
        return new FloatTensor(v, shape);
    }

    /**
     * Warms the kernels up on this thread, one core, until {@code stop} says so or {@code maxNanos}
     * pass; returns the layers run. Does nothing (0) unless the linears are the Vector API's
     * ({@link Kernels#selected()} "vector"), nor with {@code -Dattnspark.kernelWarmUp=false} (for
     * timing a JVM without it).
     */
    public static int run(BooleanSupplier stop, long maxNanos) {
        // openblas and nd4j are native code (nd4j may be CUDA's, bound per task): nothing to compile
        if (!Kernels.vectorApi()
                || !"vector".equals(Kernels.selected())
                || "false".equals(System.getProperty("attnspark.kernelWarmUp"))) return 0;
        long start = System.nanoTime();
        KernelWarmUp w = new KernelWarmUp();
        int layers = 0;
        try (var threads = Parallel.scope(1)) {
            while (!stop.getAsBoolean() && System.nanoTime() - start < maxNanos) {
                w.layer();
                layers++;
            }
        }
        return layers;
    }

    /**
     * One encoder layer's kernels in BertModel's order (post-LayerNorm; no attention output projection,
     * which is the same linear kernel), the output fed back as the next input x.
     */
    void layer() {
        qkv.forward(x, tokens, qkvOut, Epilogue.NONE); // (T, 3·hidden)
        VectorPackedAttention.bidirectional(
                FloatSpan.of(qkvOut),
                cuSeqlens,
                LENGTHS.length,
                HEADS,
                HEAD_DIM,
                SCALING,
                FloatSpan.of(attnOut)); // (T, hidden)
        for (int t = 0; t < tokens; t++)
            LayerNorm.row(attnOut, t * HIDDEN, x, t * HIDDEN, HIDDEN, lnWeight, lnBias, 1e-12f);
        up.forward(attnOut, tokens, upOut, Epilogue.GELU); // (T, intermediate)
        down.forward(upOut, tokens, x, Epilogue.NONE); // (T, hidden): x is no longer needed as the residual
        for (int t = 0; t < tokens; t++)
            LayerNorm.row(x, t * HIDDEN, attnOut, t * HIDDEN, HIDDEN, lnWeight, lnBias, 1e-12f);
    }
}
