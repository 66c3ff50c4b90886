package attnspark.bench;

import attnspark.kernels.CpuInfo;
import attnspark.kernels.Kernels;
import attnspark.kernels.Linear;
import attnspark.models.llama.CausalLmScorer;
import attnspark.models.llama.LlamaModel;
import attnspark.tensor.FloatTensor;
import attnspark.tokenizer.TextTokenizer;
import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Causal-LM scoring prefill at Llama-3.2-1B shapes with random weights: a full forward through
 * {@code --layers} layers, the tied 128,256-token head and the log-softmax of every next token
 * ({@link CausalLmScorer#scoreTokens}), timed over rounds after warm-up; prints the median time,
 * tokens/s and GFLOP/s (matmul and attention flops, counted; the head included), and beside it
 * the GFLOP/s of one plain (S, 2048) x (2048, 8192) gemm of the same kernel timed between the
 * rounds: their ratio is the share of the machine's best matmul rate the whole prefill keeps. The
 * last column is the Java heap a round allocates per token (~0.59 MB with 2 layers at 1B shapes,
 * 0.51 MB of it the bounded logits slices; the layers' activations live in a per-thread arena); it is the same at the same shapes in every JVM, so a figure above
 * another JVM's means the JIT left a Vector API kernel boxed in this one (see {@link HeapMeter}).
 * <pre>
 * scripts/bench-prefill [--layers 2] [--seq 512] [--docs 1] [--vocab 128256] [--rounds 5] [--attn sdpa] [--chunk N]
 *                       [--window W --stride S] [--hidden D --heads H --kv-heads K --ffn I]
 * </pre>
 * {@code --seq} takes a list ({@code 128,512,2048}): one line per length. {@code --chunk N} sets
 * {@code attention_chunk_size} (the job's {@code --attention-chunk}); {@code --window/--stride}
 * score longer documents with HF's strided windows (the job's options of the same names). The
 * shape options override the 1B config (a smaller model shows the attention term sooner).
 */
public final class PrefillBench {
    private static final int MAX_WARM_UPS = 10;
    // process CPU seconds per round: GFLOP/cpu_s is the rate per busy core, which a crowded machine
    // does not lower as it lowers wall-clock GFLOP/s (times the cores, it is what an idle machine gives)
    private static final OperatingSystemMXBean CPU =
            (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    public static void main(String[] args) {
        int layers = 2, docs = 1, vocab = 128256, rounds = 5, chunk = 0, window = 0, stride = 0;
        int hidden = 0, heads = 0, kvHeads = 0, ffn = 0;
        String attn = "sdpa";
        int[] seqs = {512};
        for (int i = 0; i < args.length; i += 2) {
            String v = args[i + 1];
            switch (args[i]) {
                case "--layers" -> layers = Integer.parseInt(v);
                case "--seq" ->
                    seqs = Arrays.stream(v.split(","))
                            .mapToInt(Integer::parseInt)
                            .toArray();
                case "--docs" -> docs = Integer.parseInt(v);
                case "--vocab" -> vocab = Integer.parseInt(v);
                case "--rounds" -> rounds = Integer.parseInt(v);
                case "--attn" -> attn = v;
                case "--chunk" -> chunk = Integer.parseInt(v);
                case "--window" -> window = Integer.parseInt(v);
                case "--stride" -> stride = Integer.parseInt(v);
                case "--hidden" -> hidden = Integer.parseInt(v);
                case "--heads" -> heads = Integer.parseInt(v);
                case "--kv-heads" -> kvHeads = Integer.parseInt(v);
                case "--ffn" -> ffn = Integer.parseInt(v);
                default ->
                    throw new IllegalArgumentException("unknown option " + args[i] + "; options: --layers --seq --docs"
                            + " --vocab --rounds --attn --chunk --window --stride --hidden --heads --kv-heads --ffn");
            }
        }
        Map<String, Object> config = Shapes.llama1b(layers, vocab);
        if (chunk > 0) config.put("attention_chunk_size", chunk);
        if (hidden > 0) config.put("hidden_size", hidden);
        if (heads > 0) config.put("num_attention_heads", heads);
        if (kvHeads > 0) config.put("num_key_value_heads", kvHeads);
        if (ffn > 0) config.put("intermediate_size", ffn);
        long t0 = System.nanoTime();
        LlamaModel model = Shapes.llama(config, attn);
        LlamaModel.Config c = model.config;
        System.out.printf(
                Locale.ROOT,
                "Llama shapes: hidden %d, heads %d/%d x %d, FFN %d, %d layers, vocab %d, attn %s%s%s,"
                        + " kernel %s, threads %d; loaded in %.1f s%n",
                c.hidden(),
                c.heads(),
                c.kvHeads(),
                c.headDim(),
                c.intermediate(),
                layers,
                vocab,
                attn,
                chunk > 0 ? ", attention_chunk_size " + chunk : "",
                window > 0 ? ", window " + window + " stride " + stride : "",
                Kernels.selected(),
                Runtime.getRuntime().availableProcessors(),
                (System.nanoTime() - t0) / 1e9);
        System.out.println("cpu: " + CpuInfo.thisMachine().describe());
        CausalLmScorer scorer = new CausalLmScorer(
                model,
                null,
                Integer.MAX_VALUE,
                Map.of(),
                window > 0 ? CausalLmScorer.Recipe.hfStrided(window, stride, -1) : CausalLmScorer.Recipe.full(-1));
        // the peer in the same process: one (S, 2048) x (2048, 8192) sgemm through the kernel in use,
        // timed between the rounds, so the ratio holds on a loaded machine where absolute GFLOP/s do not
        Linear peer = Kernels.linear(new FloatTensor(new float[8192 * 2048], 8192, 2048), null);
        System.out.println(
                "tokens  docs  median_s  tokens/s  GFLOP  GFLOP/s  us/token  peer_sgemm_GFLOP/s  ratio  GFLOP/cpu_s"
                        + "  heap_B/token");
        for (int S : seqs) {
            TextTokenizer.Tokens[] tokens = new TextTokenizer.Tokens[docs];
            int[][] ids = LayerBench.randomIds(docs, S, vocab);
            for (int d = 0; d < docs; d++) tokens[d] = new TextTokenizer.Tokens(ids[d], false);
            double gflop = docs
                    * (window > 0 && S > window
                            ? windowedFlops(c, layers, S, window, stride)
                            : layers * (chunk > 0 ? chunkedLayerFlops(c, S, chunk) : Shapes.decoderLayerFlops(c, S))
                                    + Shapes.lmHeadFlops(c, S))
                    / 1e9;
            float[] x = new float[S * 2048];
            int warmUps = warmUp(() -> scorer.scoreTokens(tokens, false));
            peer.forward(x, S);
            List<Double> times = new ArrayList<>(), peerRates = new ArrayList<>(), cpuTimes = new ArrayList<>();
            List<Double> heapBytes = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                long c0 = CPU.getProcessCpuTime(), h0 = HeapMeter.allocated(), s0 = System.nanoTime();
                scorer.scoreTokens(tokens, false);
                times.add((System.nanoTime() - s0) / 1e9);
                heapBytes.add((double) HeapMeter.since(h0));
                cpuTimes.add((CPU.getProcessCpuTime() - c0) / 1e9);
                long p0 = System.nanoTime();
                peer.forward(x, S);
                peerRates.add(2.0 * S * 2048 * 8192 / (System.nanoTime() - p0));
            }
            double med = median(times), peerRate = median(peerRates);
            System.out.printf(Locale.ROOT, "# S = %d: %d warm-up calls%n", S, warmUps);
            System.out.printf(
                    Locale.ROOT,
                    "%6d  %4d  %8.3f  %8.0f  %5.0f  %7.1f  %8.1f  %18.1f  %5.2f  %11.1f  %12.0f%n",
                    S,
                    docs,
                    med,
                    docs * S / med,
                    gflop,
                    gflop / med,
                    med * 1e6 / (docs * S),
                    peerRate,
                    gflop / med / peerRate,
                    gflop / median(cpuTimes),
                    median(heapBytes) / (docs * S));
        }
    }

    /**
     * Calls {@code pass} until two calls in a row allocate the same heap (within 1 %), at most
     * {@link #MAX_WARM_UPS} times; returns the count. The kernels' code interpreted or from C1 boxes
     * every vector it touches, C2's does not: one call was not enough at the first length of a run
     * (its rounds allocated 1.2-2.3x the heap of later ones, and ran slower).
     */
    static int warmUp(Runnable pass) {
        long previous = -1;
        for (int n = 1; ; n++) {
            long h0 = HeapMeter.allocated();
            pass.run();
            long bytes = HeapMeter.since(h0);
            if (n == MAX_WARM_UPS || previous >= 0 && Math.abs(bytes - previous) <= previous / 100) return n;
            previous = bytes;
        }
    }

    static double median(List<Double> v) {
        List<Double> sorted = new ArrayList<>(v);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }

    /** Chunked causal attention only sees its own chunk: linear flops plus the causal half of each chunk. */
    static double chunkedLayerFlops(LlamaModel.Config c, int S, int chunk) {
        double f = linearOnly(c, S);
        for (int s0 = 0; s0 < S; s0 += chunk) {
            int n = Math.min(chunk, S - s0);
            f += 4.0 * c.heads() * c.headDim() * (n * (n + 1) / 2.0);
        }
        return f;
    }

    /** HF's strided recipe (WindowedScorer.scoreRecompute): one fresh forward of each window. */
    static double windowedFlops(LlamaModel.Config c, int layers, int S, int window, int stride) {
        double f = 0;
        for (int begin = 0; begin < S; begin += stride) {
            int end = Math.min(begin + window, S), n = end - begin;
            f += layers * Shapes.decoderLayerFlops(c, n) + Shapes.lmHeadFlops(c, n);
            if (end == S) break;
        }
        return f;
    }

    private static double linearOnly(LlamaModel.Config c, int S) {
        return Shapes.decoderLayerFlops(c, S) - 4.0 * c.heads() * c.headDim() * (S * (S + 1) / 2.0);
    }
}
