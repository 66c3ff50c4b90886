package attnspark.bench;

import attnspark.attention.AttentionFunction;
import attnspark.attention.AttentionMask;
import attnspark.attention.AttentionModule;
import attnspark.attention.SdpaAttention;
import attnspark.attention.dispatch.AttentionInterface;
import attnspark.attention.dispatch.Masks;
import attnspark.checkpoint.BundledModel;
import attnspark.corpus.CorpusGenerator;
import attnspark.kernels.Epilogue;
import attnspark.kernels.FloatSpan;
import attnspark.kernels.Kernels;
import attnspark.kernels.Linear;
import attnspark.models.Activations;
import attnspark.models.Norms;
import attnspark.models.Pooling;
import attnspark.models.SequenceBatch;
import attnspark.tensor.FloatTensor;
import attnspark.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;

/**
 * Where one all-MiniLM-L6-v2 forward spends its time, phase by phase, at the model's shapes
 * (hidden 384, 12 heads, intermediate 1536, 6 layers; random weights, timing only), for a
 * batch of B sequences of L tokens: the padded path as it was (OpenBLAS linears copying in and
 * out, (B, H, S, D) sdpa, separate bias / GELU / residual passes) beside the packed path
 * (Vector API linears into reused buffers, varlen attention, fused epilogues). Prints the
 * median ms per phase for the whole 6-layer forward and each phase's share.
 * Run: java ... attnspark.bench.EncoderPhases [B L reps] (defaults: 200 41 5, and 32 256 5).
 */
public final class EncoderPhases {
    static final int D = 384, H = 12, Dh = 32, I = 1536, LAYERS = 6;

    public static void main(String[] args) throws Exception {
        int reps = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        List<int[]> shapes = args.length > 1
                ? List.<int[]>of(new int[] {Integer.parseInt(args[0]), Integer.parseInt(args[1])})
                : List.of(new int[] {200, 41}, new int[] {32, 256});
        for (int[] s : shapes) run(s[0], s[1], reps);
    }

    static void run(int B, int L, int reps) throws Exception {
        int[][] ids = new int[B][L];
        ids[B - 1] = new int[L - 1]; // a padding mask, as length-sorted batches of real texts have: sdpa's row kernel
        SequenceBatch batch = new SequenceBatch(ids);
        int T = batch.totalTokens;
        Random rnd = new Random(1);
        Map<String, Linear> blas = new LinkedHashMap<>(), vec = new LinkedHashMap<>();
        int[][] lin = {{3 * D, D}, {D, D}, {I, D}, {D, I}};
        String[] names = {"qkv", "out", "up", "down"};
        for (int i = 0; i < lin.length; i++) {
            FloatTensor w = randn(rnd, 0.05f, lin[i][0], lin[i][1]), b = randn(rnd, 0.05f, lin[i][0]);
            System.setProperty("attnspark.kernel", "openblas");
            blas.put(names[i], Kernels.linear(w, b));
            System.setProperty("attnspark.kernel", "vector");
            vec.put(names[i], Kernels.linear(w, b));
        }
        System.clearProperty("attnspark.kernel");
        float[] lnW = randn(rnd, 1f, D).data, lnB = randn(rnd, 0.1f, D).data;
        float[] x = randn(rnd, 1f, T, D).data;
        AttentionModule module = AttentionModule.of(false, 0, 1, (float) (1 / Math.sqrt(Dh)));
        AttentionFunction sdpa = AttentionInterface.ALL.get("sdpa");
        AttentionMask mask = Masks.createBidirectionalMask(
                Masks.MaskInputs.of("sdpa", B, L, batch.paddingMask()).withCausal(false));

        float[] qkv = new float[T * 3 * D], attn = new float[T * D], o = new float[T * D], h = new float[T * I];
        Map<String, Supplier<Runnable>> before = new LinkedHashMap<>(), after = new LinkedHashMap<>();
        before.put("qkv linear", () -> () -> blas.get("qkv").forward(x, T));
        before.put("attention (pad, sdpa)", () -> {
            float[] q3 = blas.get("qkv").forward(x, T);
            return () -> {
                FloatTensor q = batch.toHeads(q3, 3 * D, 0, H, Dh),
                        k = batch.toHeads(q3, 3 * D, D, H, Dh),
                        v = batch.toHeads(q3, 3 * D, 2 * D, H, Dh);
                batch.fromHeads(sdpa.apply(module, q, k, v, mask, Map.of()).output());
            };
        });
        before.put("out linear", () -> () -> blas.get("out").forward(x, T));
        before.put("residual + LN", () -> () -> {
            float[] y = x.clone();
            for (int i = 0; i < y.length; i++) y[i] += o[i];
            Norms.layerNorm(y, T, D, lnW, lnB, 1e-12f);
        });
        before.put(
                "up linear + GELU",
                () -> () -> Activations.apply("gelu", blas.get("up").forward(x, T)));
        before.put("down linear", () -> () -> blas.get("down").forward(h, T));
        before.put("residual + LN (2)", before.get("residual + LN"));

        after.put("qkv linear", () -> () -> vec.get("qkv").forward(x, T, qkv, Epilogue.NONE));
        after.put(
                "attention (packed)",
                () -> () -> SdpaAttention.packedBidirectional(
                        FloatSpan.of(qkv), batch.offsets, B, H, Dh, module.scaling(), FloatSpan.of(attn)));
        after.put("out linear", () -> () -> vec.get("out").forward(attn, T, o, Epilogue.NONE));
        after.put("residual + LN", () -> {
            float[] y = x.clone();
            return () -> Norms.addLayerNorm(FloatSpan.of(y), FloatSpan.of(o), T, D, lnW, lnB, 1e-12f);
        });
        after.put("up linear + GELU", () -> () -> vec.get("up").forward(x, T, h, Epilogue.GELU));
        after.put("down linear", () -> () -> vec.get("down").forward(h, T, o, Epilogue.NONE));
        after.put("residual + LN (2)", after.get("residual + LN"));

        List<String> texts = new ArrayList<>();
        for (int i = 0; i < B; i++)
            texts.add(CorpusGenerator.text(L > 64 ? CorpusGenerator.Kind.LONG : CorpusGenerator.Kind.SHORT, 42, i));
        double tokenize;
        try (TextTokenizer tok = new TextTokenizer(BundledModel.materialize().resolve("tokenizer.json"), 256)) {
            List<String> sample = texts.subList(0, Math.min(texts.size(), B));
            tokenize = time(() -> tok.encode(sample), reps) * LAYERS; // per layer below; printed once
        }
        double pool = time(
                () -> {
                    for (int b = 0; b < B; b++) Pooling.pool("mean", x, D, batch.offsets[b], batch.length(b), true);
                },
                reps);

        System.out.printf(
                "%nB=%d sequences x L=%d tokens = %d tokens, %d layers; ms for the whole forward (median of %d)%n",
                B, L, T, LAYERS, reps);
        System.out.printf("%-24s %12s %12s%n", "phase", "before", "after");
        double tb = 0, ta = 0;
        List<String> bk = new ArrayList<>(before.keySet()), ak = new ArrayList<>(after.keySet());
        double[] mb = new double[bk.size()], ma = new double[ak.size()];
        for (int i = 0; i < bk.size(); i++) {
            mb[i] = time(before.get(bk.get(i)).get(), reps) * LAYERS;
            ma[i] = time(after.get(ak.get(i)).get(), reps) * LAYERS;
            tb += mb[i];
            ta += ma[i];
        }
        for (int i = 0; i < bk.size(); i++) {
            System.out.printf(
                    "%-24s %8.1f %3.0f%% %8.1f %3.0f%%   (after: %s)%n",
                    bk.get(i), mb[i] * 1e3, 100 * mb[i] / tb, ma[i] * 1e3, 100 * ma[i] / ta, ak.get(i));
        }
        System.out.printf(
                "%-24s %8.1f      %8.1f       ratio before/after %.2f%n", "layers total", tb * 1e3, ta * 1e3, tb / ta);
        System.out.printf(
                "%-24s %8.1f   (B texts of the STS-B corpus, not L tokens each)%n",
                "tokenize", tokenize / LAYERS * 1e3);
        System.out.printf("%-24s %8.1f%n", "mean pool + L2", pool * 1e3);
        System.out.printf("layers: before %.0f tokens/s, after %.0f tokens/s%n", T / tb, T / ta);
    }

    static double time(Runnable r, int reps) {
        r.run();
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            r.run();
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        double[] sorted = t.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    static FloatTensor randn(Random rnd, float scale, int... shape) {
        FloatTensor t = FloatTensor.zeros(shape);
        for (int i = 0; i < t.data.length; i++) t.data[i] = (float) rnd.nextGaussian() * scale;
        return t;
    }
}
