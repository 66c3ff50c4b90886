package attnspark.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import attnspark.api.EmbeddingResult;
import attnspark.api.ModelOptions;
import attnspark.api.Models;
import attnspark.api.TextEmbedder;
import attnspark.checkpoint.BundledModel;
import attnspark.models.TokenBudgetBatches;
import attnspark.tokenizer.TextTokenizer;

import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * attnspark vs ONNX Runtime on the same ONNX file, same texts, same tokenization and the same
 * length-sorted token-budget batches, in one process: prints medians and the ratio.
 * Run with scripts/bench [texts-file] [reps] [attn...].
 */
public final class EmbedBench {
    public static void main(String[] args) throws Exception {
        List<String> texts = loadTexts(args.length > 0 ? args[0] : null);
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        List<String> attns = args.length > 2 ? Arrays.asList(args).subList(2, args.length) : List.of("sdpa", "eager");
        int budget = Integer.getInteger("attnspark.bench.budget", 8192);   // tokens per batch (padded), both engines
        Path dir = BundledModel.materialize();
        int threads = Runtime.getRuntime().availableProcessors();
        System.out.printf("texts=%d reps=%d threads=%d budget=%d model=all-MiniLM-L6-v2%n", texts.size(), reps, threads, budget);

        TextTokenizer.Tokens[] tokens;
        try (TextTokenizer tok = new TextTokenizer(dir.resolve("tokenizer.json"), 256)) {
            tokens = tok.encode(texts);
        }
        long nTokens = Arrays.stream(tokens).mapToLong(t -> t.ids().length).sum();

        // engines alternate rep by rep, so load from other processes on a shared machine hits both alike
        List<TextEmbedder> engines = new ArrayList<>();
        for (String attn : attns) engines.add(Models.loadEmbedder(ModelOptions.defaults().withAttn(attn).withBatchTokens(budget)));
        double[] ort = new double[reps];
        double[][] t = new double[attns.size()][reps];
        try (OrtRunner runner = new OrtRunner(dir, tokens, budget, threads)) {
            runner.run();                                                   // warm-up
            for (TextEmbedder e : engines) e.embed(texts);
            for (int r = 0; r < reps; r++) {
                ort[r] = runner.run();
                for (int a = 0; a < engines.size(); a++) {
                    long t0 = System.nanoTime();
                    List<EmbeddingResult> out = engines.get(a).embed(texts);
                    t[a][r] = (System.nanoTime() - t0) / 1e9;
                    if (out.size() != texts.size()) throw new IllegalStateException("lost rows");
                }
            }
        } finally {
            for (TextEmbedder e : engines) e.close();
        }
        double ortMedian = median(ort);
        System.out.printf("onnxruntime  : %8.0f tokens/s (median of %d, %d tokens)%n", nTokens / ortMedian, reps, nTokens);
        for (int a = 0; a < attns.size(); a++) {
            double m = median(t[a]);
            double[] ratios = new double[reps];
            for (int r = 0; r < reps; r++) ratios[r] = ort[r] / t[a][r];
            System.out.printf("attnspark %-5s: %8.0f tokens/s (median of %d)  ratio to onnxruntime = %.2f (median of per-rep ratios %.2f)%n",
                    attns.get(a), nTokens / m, reps, ortMedian / m, median(ratios));
        }
    }

    static List<String> loadTexts(String file) throws Exception {
        if (file != null && !file.isEmpty()) return Files.readAllLines(Path.of(file)).stream().filter(s -> !s.isBlank()).toList();
        Path sts = Path.of(System.getProperty("attnspark.shared", "../shared"), "data/stsb/sts-test.csv");
        List<String> t = new ArrayList<>();
        for (String line : Files.readAllLines(sts)) {
            String[] f = line.split("\t");
            if (f.length >= 7) {
                t.add(f[5]);
                t.add(f[6]);
            }
        }
        return t;
    }

    /** ONNX Runtime over the same token-budget batches, mean pooling included; run() returns seconds. */
    static final class OrtRunner implements AutoCloseable {
        private final OrtEnvironment env = OrtEnvironment.getEnvironment();
        private final OrtSession session;
        private final TextTokenizer.Tokens[] tokens;
        private final int[] lengths;
        private final List<int[]> plan;

        OrtRunner(Path dir, TextTokenizer.Tokens[] tokens, int budget, int threads) throws Exception {
            OrtSession.SessionOptions so = new OrtSession.SessionOptions();
            so.setIntraOpNumThreads(threads);
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            this.session = env.createSession(dir.resolve("model.onnx").toString(), so);
            this.tokens = tokens;
            this.lengths = Arrays.stream(tokens).mapToInt(t -> t.ids().length).toArray();
            this.plan = TokenBudgetBatches.plan(lengths, budget);
        }

        double run() throws Exception {
            long t0 = System.nanoTime();
            for (int[] idx : plan) {
                int maxLen = 0;
                for (int i : idx) maxLen = Math.max(maxLen, lengths[i]);
                long[] ids = new long[idx.length * maxLen], mask = new long[ids.length], types = new long[ids.length];
                for (int b = 0; b < idx.length; b++) {
                    int[] t = tokens[idx[b]].ids();
                    for (int j = 0; j < t.length; j++) {
                        ids[b * maxLen + j] = t[j];
                        mask[b * maxLen + j] = 1;
                    }
                }
                long[] shape = {idx.length, maxLen};
                try (OnnxTensor a = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
                     OnnxTensor m = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
                     OnnxTensor ty = OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape);
                     OrtSession.Result res = session.run(Map.of("input_ids", a, "attention_mask", m, "token_type_ids", ty))) {
                    float[][][] h = (float[][][]) res.get(0).getValue();
                    for (int b = 0; b < idx.length; b++) {       // mean pooling + L2, as the pipeline does
                        float[] v = new float[h[b][0].length];
                        for (int j = 0; j < lengths[idx[b]]; j++) for (int d = 0; d < v.length; d++) v[d] += h[b][j][d];
                        double n = 0;
                        for (float x : v) n += x * x;
                        if (n == 0) throw new IllegalStateException();
                    }
                }
            }
            return (System.nanoTime() - t0) / 1e9;
        }

        @Override
        public void close() throws Exception {
            session.close();
        }
    }

    static double median(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
