package attnspark.bench;

import attnspark.api.EmbeddingResult;
import attnspark.api.ModelOptions;
import attnspark.api.TextEmbedder;
import attnspark.bench.BenchReport.ConfigResult;
import attnspark.bench.BenchReport.Corpus;
import attnspark.bench.BenchReport.JobResult;
import attnspark.bench.BenchReport.Machine;
import attnspark.checkpoint.BundledModel;
import attnspark.kernels.CpuInfo;
import attnspark.kernels.Kernels;
import attnspark.load.Models;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@code scripts/attnspark bench}: embedding throughput of attnspark against ONNX Runtime on the
 * same ONNX weights and texts, tokenisation included for both, in one JVM. After a warm-up
 * round of every configuration (which also checks both engines agree: same token counts,
 * cosine of every embedding), the timed rounds run every configuration once per round, the
 * starting one rotating, so load on the machine spreads over all of them. ONNX Runtime gets
 * batch sizes 1/8/32/128 of length-sorted texts, attnspark a sweep of batch token budgets.
 * Then the CLI job embeds the same texts on local[*] at attnspark's best budget. Prints a table
 * of medians; writes bench.json and bench.png; the last line is machine-readable.
 */
public final class EmbedBench {
    /** Below this the engines compute different things and their speeds mean nothing (the parity suite asks 0.99999). */
    static final double MIN_COSINE = 0.999;

    /**
     * Heap bytes a token above which an attnspark pass is not what its kernels allocate but the
     * JIT's boxed vectors: a whole pass allocates 1.8-2.1 KiB a token on 256-token documents and
     * 2.6 on STS-B sentences (tokens, buffers, outputs); a boxed score kernel adds ~25 KiB.
     */
    static final double BOXED_HEAP_BYTES_PER_TOKEN = 16 * 1024;

    private EmbedBench() {}

    /** One timed configuration: embeds the whole corpus, returns one vector per text. */
    private interface Pass {
        float[][] run(List<String> texts) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            System.out.println(BenchOptions.USAGE);
            return;
        }
        BenchOptions o;
        try {
            o = BenchOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("attnspark bench: " + e.getMessage());
            System.err.println(BenchOptions.USAGE);
            System.exit(2);
            return;
        }
        try {
            run(o);
        } catch (IllegalArgumentException | IllegalStateException e) {
            System.err.println("attnspark bench: " + e.getMessage());
            System.exit(1);
        } catch (Exception e) {
            System.err.println("attnspark bench: " + e);
            e.printStackTrace();
            System.exit(1);
        }
        System.exit(0); // ONNX Runtime's and the tokenizer's native threads must not keep the JVM alive
    }

    static BenchReport run(BenchOptions o) throws Exception {
        String started = Instant.now().toString();
        Files.createDirectories(o.out());
        Path shared = Path.of(System.getProperty("attnspark.shared", "../shared"));
        BenchCorpus corpus = BenchCorpus.load(o.input(), shared, o.out(), o.limit());
        List<String> texts = corpus.texts();
        Path modelDir = o.modelDir() != null ? o.modelDir() : BundledModel.materialize();
        Path onnx = Models.findOnnx(modelDir);
        if (onnx == null)
            throw new IllegalArgumentException(
                    "--model " + modelDir + ": no .onnx file; ONNX Runtime needs the model as ONNX");
        int threads = Runtime.getRuntime().availableProcessors();

        try (OrtEmbedder ort = new OrtEmbedder(onnx, modelDir.resolve("tokenizer.json"), o.maxLength(), threads)) {
            int[] lengths = ort.lengths(texts);
            long tokens = Arrays.stream(lengths).asLongStream().sum();
            Corpus c = new Corpus(corpus.name(), texts.size(), tokens, o.maxLength());
            System.out.printf(
                    Locale.ROOT,
                    "corpus: %s%n  %,d texts, %,d tokens (%.1f per text, max length %d); model %s; %d cores; %d rounds after 1 warm-up%n",
                    c.name(),
                    c.texts(),
                    tokens,
                    c.meanTokens(),
                    o.maxLength(),
                    modelDir,
                    threads,
                    o.rounds());
            System.out.println("  cpu: " + CpuInfo.thisMachine().describe());

            List<ConfigResult> configs = new ArrayList<>();
            List<Pass> passes = new ArrayList<>();
            List<TextEmbedder> embedders = new ArrayList<>();
            for (int b : o.ortBatches()) {
                configs.add(ConfigResult.onnxRuntime(
                        b, OrtEmbedder.meanPaddedBatchTokens(lengths, b), new double[o.rounds()]));
                passes.add(t -> ort.embed(t, b));
            }
            try {
                for (String attn : o.attns()) {
                    for (int budget : o.budgets()) {
                        ModelOptions mo = ModelOptions.defaults()
                                .withAttn(attn)
                                .withBatchTokens(budget)
                                .withMaxLength(o.maxLength());
                        if (o.modelDir() != null)
                            mo = mo.withModelDir(o.modelDir().toString());
                        TextEmbedder e = Models.loadEmbedder(mo);
                        embedders.add(e);
                        configs.add(ConfigResult.attnspark(attn, budget, new double[o.rounds()]));
                        passes.add(t -> vectors(e.embed(t), lengths));
                    }
                }

                double minCosine = warmUp(passes, configs, texts);
                timeRounds(passes, configs, texts, o.rounds());
                BenchReport partial = new BenchReport(
                        c, modelDir.toString(), o.rounds(), machine(ort.version()), configs, null, minCosine, started);

                JobResult job = null;
                if (o.jobRounds() > 0) {
                    ConfigResult best = partial.best(BenchReport.ATTNSPARK);
                    Pass bestPass = passes.get(configs.indexOf(best));
                    job = JobBench.run(
                            Path.of(System.getProperty("attnspark.root", ".")),
                            corpus,
                            tokens,
                            o,
                            best.attn(),
                            best.batchTokens(),
                            () -> {
                                long t0 = System.nanoTime();
                                bestPass.run(texts);
                                return (System.nanoTime() - t0) / 1e9;
                            });
                }
                BenchReport report = new BenchReport(
                        c, modelDir.toString(), o.rounds(), partial.machine(), configs, job, minCosine, started);
                report.writeJson(o.out().resolve("bench.json"));
                BenchPlot.write(report, o.out().resolve("bench.png"));
                print(report, o.out());
                return report;
            } finally {
                embedders.forEach(TextEmbedder::close);
            }
        }
    }

    /** Every configuration once, untimed; each must agree with the first (an ONNX Runtime pass). Returns the lowest cosine seen. */
    private static double warmUp(List<Pass> passes, List<ConfigResult> configs, List<String> texts) throws Exception {
        float[][] reference = null;
        double minCosine = 1;
        for (int k = 0; k < passes.size(); k++) {
            long t0 = System.nanoTime();
            float[][] v = passes.get(k).run(texts);
            System.out.printf(
                    Locale.ROOT, "warm-up %-32s %7.2f s%n", configs.get(k).label(), (System.nanoTime() - t0) / 1e9);
            if (reference == null) reference = v;
            double cos = minCosine(reference, v);
            if (cos < MIN_COSINE) {
                throw new IllegalStateException(String.format(
                        Locale.ROOT,
                        "%s and %s disagree: an embedding's cosine is %.6f (< %.3f); "
                                + "the speeds would not be comparable. Check the model directory and the parity tests",
                        configs.get(0).label(),
                        configs.get(k).label(),
                        cos,
                        MIN_COSINE));
            }
            minCosine = Math.min(minCosine, cos);
        }
        return minCosine;
    }

    /** Each round runs every configuration once, starting one further along each round, so drifting load spreads over all. */
    private static void timeRounds(List<Pass> passes, List<ConfigResult> configs, List<String> texts, int rounds)
            throws Exception {
        for (int r = 0; r < rounds; r++) {
            long t0 = System.nanoTime();
            for (int j = 0; j < passes.size(); j++) {
                int k = (r + j) % passes.size();
                long heap = HeapMeter.allocated(), s = System.nanoTime();
                float[][] v = passes.get(k).run(texts);
                configs.get(k).seconds()[r] = (System.nanoTime() - s) / 1e9;
                configs.get(k).heapBytes()[r] = HeapMeter.since(heap);
                if (v.length != texts.size())
                    throw new IllegalStateException(configs.get(k).label() + " lost rows");
            }
            System.out.printf(Locale.ROOT, "round %d/%d: %.1f s%n", r + 1, rounds, (System.nanoTime() - t0) / 1e9);
        }
    }

    /** attnspark's vectors, after checking it counted the same tokens per text as the tokenizer ONNX Runtime is fed from. */
    private static float[][] vectors(List<EmbeddingResult> results, int[] lengths) {
        float[][] v = new float[results.size()][];
        for (int i = 0; i < v.length; i++) {
            EmbeddingResult e = results.get(i);
            if (e.nTokens() != lengths[i]) {
                throw new IllegalStateException("text " + i + ": attnspark saw " + e.nTokens()
                        + " tokens, ONNX Runtime's feed has " + lengths[i]);
            }
            v[i] = e.vector();
        }
        return v;
    }

    static double minCosine(float[][] a, float[][] b) {
        double min = 1;
        for (int i = 0; i < a.length; i++) {
            double dot = 0, na = 0, nb = 0;
            for (int d = 0; d < a[i].length; d++) {
                dot += (double) a[i][d] * b[i][d];
                na += (double) a[i][d] * a[i][d];
                nb += (double) b[i][d] * b[i][d];
            }
            min = Math.min(min, dot / Math.sqrt(na * nb));
        }
        return min;
    }

    private static void print(BenchReport r, Path out) {
        long tokens = r.corpus().tokens();
        double ortBest = r.best(BenchReport.ONNXRUNTIME).tokensPerSecond(tokens);
        System.out.printf(
                "%n%-34s %10s %12s %10s %13s%n",
                "configuration", "median s", "tokens/s", "vs ORT best", "heap B/token");
        for (ConfigResult c : r.configs()) {
            System.out.printf(
                    Locale.ROOT,
                    "%-34s %10.3f %12.0f %10.2f %13.0f%n",
                    c.label(),
                    c.medianSeconds(),
                    c.tokensPerSecond(tokens),
                    c.tokensPerSecond(tokens) / ortBest,
                    c.medianHeapBytes() / tokens);
        }
        for (ConfigResult c : r.configs()) {
            if (c.engine().equals(BenchReport.ATTNSPARK) && c.medianHeapBytes() / tokens > BOXED_HEAP_BYTES_PER_TOKEN) {
                System.out.printf(
                        Locale.ROOT,
                        "warning: %s allocated %.0f heap bytes a token: the JIT most likely left a Vector API kernel"
                                + " boxed in this JVM (see docs/perf/history.md); its figures are not the engine's, run"
                                + " the bench again%n",
                        c.label(),
                        c.medianHeapBytes() / tokens);
            }
        }
        System.out.printf(
                Locale.ROOT,
                "best: %s %.0f tokens/s, %s %.0f tokens/s, ratio %.3f (median of per-round ratios %.3f; min cosine %.6f)%n",
                r.best(BenchReport.ATTNSPARK).label(),
                r.best(BenchReport.ATTNSPARK).tokensPerSecond(tokens),
                r.best(BenchReport.ONNXRUNTIME).label(),
                ortBest,
                r.ratio(),
                r.medianRoundRatio(),
                r.minCosine());
        if (r.job() != null) {
            double inProcess = r.inProcessPeerOfJob().tokensPerSecond(tokens);
            System.out.printf(
                    Locale.ROOT,
                    "job (local[*], median of %d): %.0f tokens/s = %.2f of in process %.0f (%s); wall %.1f s incl. JVM and Spark start%n",
                    r.job().jobSeconds().length,
                    r.job().tokensPerSecond(),
                    r.job().tokensPerSecond() / inProcess,
                    inProcess,
                    r.inProcessPeerOfJob().label(),
                    BenchReport.median(r.job().wallSeconds()));
            System.out.printf(
                    Locale.ROOT,
                    "job against the in-process pass timed right before each run (median of %d pairs): %.2f%n",
                    r.job().jobSeconds().length,
                    r.job().medianPairedRatio());
        }
        System.out.println("wrote " + out.resolve("bench.json") + " and " + out.resolve("bench.png"));
        System.out.println(r.summaryLine());
        System.out.flush();
    }

    static Machine machine(String ortVersion) {
        return new Machine(
                Runtime.getRuntime().availableProcessors(),
                CpuInfo.thisMachine(),
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                        + System.getProperty("os.arch"),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"),
                ortVersion,
                Runtime.getRuntime().maxMemory() >> 20,
                Kernels.vectorApi(),
                Kernels.selected(),
                Kernels.linearKStepsAbove());
    }
}
