package attnspark.kernels;

import attnspark.tensor.FloatTensor;
import java.util.Random;

/**
 * Calls each Vector API kernel at shapes that reach every tile path once (whole and partial
 * panels, tail rows, long k, each epilogue; packed and heads-first attention, causal and full;
 * LayerNorm with and without a residual; log-softmax; SwiGLU). {@link KernelsCompileTest} runs it
 * in a JVM that compiles every kernel method on first call, to see that each one compiles.
 */
final class KernelWorkout {
    private KernelWorkout() {}

    /** args[0]: how many times (default 1). */
    public static void main(String[] args) {
        if (!Kernels.vectorApi()) throw new IllegalStateException("run with --add-modules jdk.incubator.vector");
        int times = args.length > 0 ? Integer.parseInt(args[0]) : 1;
        for (int i = 0; i < times; i++) once(new Random(i));
        System.out.println("workout done");
    }

    static void once(Random rnd) {
        for (int[] shape : new int[][] {{19, 64, 100}, {9, 2100, 40}}) { // rows, in, out
            int rows = shape[0], in = shape[1], out = shape[2];
            Linear linear = new VectorLinear(
                    new FloatTensor(random(rnd, out * in), out, in), new FloatTensor(random(rnd, out), out));
            float[] x = random(rnd, rows * in), y = new float[rows * out];
            for (Epilogue e : Epilogue.values()) linear.forward(x, rows, y, e);
        }
        int heads = 2, D = 32, width = heads * D;
        int[] cu = {0, 5, 75};
        float[] qkv = random(rnd, cu[2] * 3 * width);
        VectorPackedAttention.bidirectional(
                FloatSpan.of(qkv), cu, 2, heads, D, 0.17f, FloatSpan.of(new float[cu[2] * width]));
        int S = 70;
        FloatTensor q = new FloatTensor(random(rnd, heads * S * D), 1, heads, S, D),
                k = new FloatTensor(random(rnd, S * D), 1, 1, S, D),
                v = new FloatTensor(random(rnd, S * D), 1, 1, S, D);
        for (boolean causal : new boolean[] {true, false}) {
            VectorPackedAttention.headsFirst(
                    q,
                    k,
                    v,
                    new VectorPackedAttention.Sequence[] {new VectorPackedAttention.Sequence(0, 0, S, 0, S)},
                    causal,
                    0.17f,
                    new float[S * heads * D]);
        }
        float[] row = random(rnd, 100), w = random(rnd, 100), b = random(rnd, 100);
        LayerNorm.row(row, 0, null, 0, 100, w, b, 1e-12f);
        LayerNorm.row(row, 0, random(rnd, 100), 0, 100, w, b, 1e-12f);
        LogSoftmax.at(random(rnd, 515), 0, 515, 7);
        SwiGlu.apply(random(rnd, 3 * 2 * 37), 3, 37);
    }

    static float[] random(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
        return x;
    }
}
