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
        int budget = 8192;
        Path dir = BundledModel.materialize();
        int threads = Runtime.getRuntime().availableProcessors();
        System.out.printf("texts=%d reps=%d threads=%d budget=%d model=all-MiniLM-L6-v2%n", texts.size(), reps, threads, budget);

        TextTokenizer.Tokens[] tokens;
        try (TextTokenizer tok = new TextTokenizer(dir.resolve("tokenizer.json"), 256)) {
            tokens = tok.encode(texts);
        }
        long nTokens = Arrays.stream(tokens).mapToLong(t -> t.ids().length).sum();

        double ort = median(timeOrt(dir, tokens, budget, threads, reps));
        System.out.printf("onnxruntime  : %8.0f tokens/s (median of %d, %d tokens)%n", nTokens / ort, reps, nTokens);
        for (String attn : attns) {
            try (TextEmbedder e = Models.loadEmbedder(ModelOptions.defaults().withAttn(attn).withBatchTokens(budget))) {
                double[] t = new double[reps];
                e.embed(texts);   // warm-up
                for (int r = 0; r < reps; r++) {
                    long t0 = System.nanoTime();
                    List<EmbeddingResult> out = e.embed(texts);
                    t[r] = (System.nanoTime() - t0) / 1e9;
                    if (out.size() != texts.size()) throw new IllegalStateException("lost rows");
                }
                double m = median(t);
                System.out.printf("attnspark %-5s: %8.0f tokens/s (median of %d)  ratio to onnxruntime = %.2f%n", attn, nTokens / m, reps, ort / m);
            }
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

    static double[] timeOrt(Path dir, TextTokenizer.Tokens[] tokens, int budget, int threads, int reps) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setIntraOpNumThreads(threads);
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        int[] lengths = Arrays.stream(tokens).mapToInt(t -> t.ids().length).toArray();
        List<int[]> plan = TokenBudgetBatches.plan(lengths, budget);
        double[] times = new double[reps];
        try (OrtSession s = env.createSession(dir.resolve("model.onnx").toString(), so)) {
            for (int r = -1; r < reps; r++) {
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
                         OrtSession.Result res = s.run(Map.of("input_ids", a, "attention_mask", m, "token_type_ids", ty))) {
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
                if (r >= 0) times[r] = (System.nanoTime() - t0) / 1e9;
            }
        }
        return times;
    }

    static double median(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
