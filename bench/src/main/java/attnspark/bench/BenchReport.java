package attnspark.bench;

import attnspark.kernels.CpuInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Everything one bench run measured, and its bench.json. Throughput is non-pad tokens (special
 * tokens included, after truncation) per second of a whole pass over the corpus, tokenisation
 * included: tokens / median seconds of the timed rounds.
 */
public record BenchReport(
        Corpus corpus,
        String model,
        int rounds,
        Machine machine,
        List<ConfigResult> configs,
        JobResult job,
        double minCosine,
        String started) {
    public static final String ATTNSPARK = "attnspark";
    public static final String ONNXRUNTIME = "onnxruntime";

    /** @param meanTokens tokens per text */
    public record Corpus(String name, int texts, long tokens, int maxLength) {
        double meanTokens() {
            return texts == 0 ? 0 : (double) tokens / texts;
        }
    }

    public record Machine(
            int cores,
            CpuInfo cpu,
            String os,
            String jvm,
            String onnxruntime,
            long maxHeapMiB,
            boolean vectorApi,
            String matrixKernel,
            int linearKStepsAbove) {}

    /**
     * One configuration's timed rounds.
     *
     * @param attn            attnspark's attention implementation (null for ONNX Runtime)
     * @param batchTokens     attnspark's batch token budget (0 for ONNX Runtime)
     * @param batchSize       ONNX Runtime's texts per run (0 for attnspark)
     * @param meanBatchTokens mean padded tokens per ONNX Runtime batch (its x on the plot); attnspark: the budget
     * @param seconds         wall seconds of each timed round, in order
     * @param heapBytes       Java heap bytes all threads allocated during each timed round's pass (ONNX
     *                        Runtime's native memory not included). A Vector API kernel that the JIT left
     *                        boxed shows here as gigabytes a pass, and runs several times slower
     */
    public record ConfigResult(
            String engine,
            String attn,
            int batchTokens,
            int batchSize,
            double meanBatchTokens,
            double[] seconds,
            long[] heapBytes) {
        public static ConfigResult attnspark(String attn, int budget, double[] seconds) {
            return new ConfigResult(ATTNSPARK, attn, budget, 0, budget, seconds, new long[seconds.length]);
        }

        public static ConfigResult onnxRuntime(int batchSize, double meanBatchTokens, double[] seconds) {
            return new ConfigResult(
                    ONNXRUNTIME, null, 0, batchSize, meanBatchTokens, seconds, new long[seconds.length]);
        }

        public String label() {
            return engine.equals(ATTNSPARK)
                    ? "attnspark " + attn + " budget=" + batchTokens
                    : "onnxruntime batch=" + batchSize;
        }

        public double medianSeconds() {
            return median(seconds);
        }

        public double tokensPerSecond(long tokens) {
            return tokens / medianSeconds();
        }

        public double medianHeapBytes() {
            return median(Arrays.stream(heapBytes).asDoubleStream().toArray());
        }
    }

    /**
     * The CLI job's runs over the same texts.
     *
     * @param jobSeconds  the job's own seconds (its summary line: reading, model load, embedding, writing)
     * @param wallSeconds the whole command, JVM and Spark start-up included
     * @param tokens      tokens the job counted (must equal the corpus's)
     * @param pairedInProcessSeconds one in-process pass of the same texts at the job's attention and
     *                    budget, timed right before each job run (same machine state, minutes apart)
     */
    public record JobResult(
            String command,
            String attn,
            int batchTokens,
            long rows,
            long tokens,
            double[] jobSeconds,
            double[] wallSeconds,
            double[] pairedInProcessSeconds,
            List<JsonNode> timelines) {
        public double tokensPerSecond() {
            return tokens / median(jobSeconds);
        }

        /**
         * Job over in process, run by run against the in-process pass just before it, then the
         * median: on a shared machine whose speed drifts over minutes, steadier than comparing the
         * job with the in-process rounds timed before all the jobs.
         */
        public double medianPairedRatio() {
            return medianOfRatios(pairedInProcessSeconds, jobSeconds);
        }
    }

    /** Median of {@code x} (mean of the middle two for an even count); empty or NaN input is an error. */
    public static double median(double[] x) {
        if (x.length == 0) throw new IllegalArgumentException("median of no values");
        double[] s = x.clone();
        Arrays.sort(s);
        if (Double.isNaN(s[s.length - 1]))
            throw new IllegalArgumentException("median of values with NaN: " + Arrays.toString(x));
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    }

    /** The fastest configuration of {@code engine} (highest tokens/s). */
    public ConfigResult best(String engine) {
        return configs.stream()
                .filter(c -> c.engine().equals(engine))
                .max(Comparator.comparingDouble(c -> c.tokensPerSecond(corpus.tokens())))
                .orElseThrow(() -> new IllegalStateException("no " + engine + " configuration was timed"));
    }

    /** attnspark best over ONNX Runtime best. */
    public double ratio() {
        return best(ATTNSPARK).tokensPerSecond(corpus.tokens())
                / best(ONNXRUNTIME).tokensPerSecond(corpus.tokens());
    }

    /**
     * The ratio of the two best configurations round by round (they ran in the same round, minutes
     * apart at most), then the median: steadier than the ratio of medians when load drifts.
     */
    public double medianRoundRatio() {
        return medianOfRatios(best(ONNXRUNTIME).seconds(), best(ATTNSPARK).seconds());
    }

    /** The median of {@code over[i] / under[i]}: seconds of the same work, pair by pair. */
    static double medianOfRatios(double[] over, double[] under) {
        double[] r = new double[under.length];
        for (int i = 0; i < r.length; i++) r[i] = over[i] / under[i];
        return median(r);
    }

    /** The in-process figure the job is compared with: attnspark at the job's attention and budget. */
    public ConfigResult inProcessPeerOfJob() {
        return configs.stream()
                .filter(c -> c.engine().equals(ATTNSPARK)
                        && c.attn().equals(job.attn())
                        && c.batchTokens() == job.batchTokens())
                .findFirst()
                .orElseThrow(() -> new IllegalStateException(
                        "the job ran at " + job.attn() + "/" + job.batchTokens() + ", which was not timed in process"));
    }

    /** The machine-readable last line of the bench. */
    public String summaryLine() {
        return String.format(
                Locale.ROOT,
                "attnspark_tokens_per_s=%.1f onnxruntime_tokens_per_s=%.1f ratio=%.3f",
                best(ATTNSPARK).tokensPerSecond(corpus.tokens()),
                best(ONNXRUNTIME).tokensPerSecond(corpus.tokens()),
                ratio());
    }

    public ObjectNode toJson() {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("started", started);
        root.put("model", model);
        ObjectNode c = root.putObject("corpus");
        c.put("name", corpus.name())
                .put("texts", corpus.texts())
                .put("tokens", corpus.tokens())
                .put("mean_tokens_per_text", corpus.meanTokens())
                .put("max_length", corpus.maxLength());
        root.put("rounds", rounds).put("warmup_rounds", 1);
        root.put(
                "throughput",
                "non-pad tokens (specials included) per second of a whole pass, tokenization included: tokens / median seconds");
        ObjectNode m = root.putObject("machine");
        m.put("cores", machine.cores())
                .put("cpu", machine.cpu().modelName())
                .put("cpu_family", machine.cpu().family())
                .put("cpu_model", machine.cpu().model());
        ArrayNode isa = m.putArray("cpu_vector_isa");
        machine.cpu().vectorIsa().forEach(isa::add);
        m.put("os", machine.os())
                .put("jvm", machine.jvm())
                .put("onnxruntime", machine.onnxruntime())
                .put("max_heap_mib", machine.maxHeapMiB())
                .put("vector_api", machine.vectorApi())
                .put("matrix_kernel", machine.matrixKernel())
                .put("linear_k_steps_above", machine.linearKStepsAbove());
        ArrayNode cs = root.putArray("configs");
        for (ConfigResult r : configs) {
            ObjectNode n = cs.addObject();
            n.put("engine", r.engine()).put("label", r.label());
            if (r.engine().equals(ATTNSPARK)) n.put("attn", r.attn()).put("batch_tokens", r.batchTokens());
            else n.put("batch_size", r.batchSize()).put("mean_padded_tokens_per_batch", r.meanBatchTokens());
            ArrayNode s = n.putArray("seconds");
            for (double x : r.seconds()) s.add(x);
            n.put("median_seconds", r.medianSeconds()).put("tokens_per_s", r.tokensPerSecond(corpus.tokens()));
            ArrayNode h = n.putArray("heap_bytes_allocated");
            for (long x : r.heapBytes()) h.add(x);
            n.put("median_heap_bytes_per_token", r.medianHeapBytes() / corpus.tokens());
        }
        ObjectNode best = root.putObject("best");
        best.put(ATTNSPARK, best(ATTNSPARK).label())
                .put(ATTNSPARK + "_tokens_per_s", best(ATTNSPARK).tokensPerSecond(corpus.tokens()));
        best.put(ONNXRUNTIME, best(ONNXRUNTIME).label())
                .put(ONNXRUNTIME + "_tokens_per_s", best(ONNXRUNTIME).tokensPerSecond(corpus.tokens()));
        best.put("ratio", ratio());
        best.put("median_of_round_ratios", medianRoundRatio());
        root.put("min_cosine_attnspark_vs_onnxruntime", minCosine);
        if (job != null) {
            ObjectNode j = root.putObject("job");
            j.put("command", job.command())
                    .put("attn", job.attn())
                    .put("batch_tokens", job.batchTokens())
                    .put("rows", job.rows())
                    .put("tokens", job.tokens());
            ArrayNode js = j.putArray("job_seconds");
            for (double x : job.jobSeconds()) js.add(x);
            ArrayNode ws = j.putArray("wall_seconds");
            for (double x : job.wallSeconds()) ws.add(x);
            double inProcess = inProcessPeerOfJob().tokensPerSecond(corpus.tokens());
            ArrayNode ps = j.putArray("paired_in_process_seconds");
            for (double x : job.pairedInProcessSeconds()) ps.add(x);
            ArrayNode tl = j.putArray("timelines"); // each run's _attnspark_metrics.json timeline
            for (JsonNode t : job.timelines()) tl.add(t);
            j.put("tokens_per_s", job.tokensPerSecond())
                    .put("in_process_tokens_per_s", inProcess)
                    .put("job_over_in_process", job.tokensPerSecond() / inProcess)
                    .put("job_over_paired_in_process", job.medianPairedRatio());
        }
        return root;
    }

    /** Writes bench.json: staged beside the target, moved into place once complete. */
    public void writeJson(Path file) throws IOException {
        Path staging = file.resolveSibling(file.getFileName() + ".tmp");
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(staging.toFile(), toJson());
        Files.move(staging, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
