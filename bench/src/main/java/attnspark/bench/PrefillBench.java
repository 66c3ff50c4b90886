package attnspark.bench;

import attnspark.models.CausalLmScorer;
import attnspark.models.llama.LlamaModel;
import attnspark.tokenizer.TextTokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Causal-LM scoring prefill at Llama-3.2-1B shapes with random weights: a full forward through
 * {@code --layers} layers, the tied 128,256-token head and the log-softmax of every next token
 * ({@link CausalLmScorer#scoreTokens}), timed over rounds after warm-up; prints the median time,
 * tokens/s and GFLOP/s (matmul and attention flops, counted; the head included).
 * <pre>
 * scripts/bench-prefill [--layers 2] [--seq 512] [--docs 1] [--vocab 128256] [--rounds 5] [--attn sdpa] [--chunk N]
 * </pre>
 * {@code --seq} takes a list ({@code 128,512,2048}): one line per length. {@code --chunk N} sets
 * {@code attention_chunk_size} (the job's {@code --attention-chunk}).
 */
public final class PrefillBench {
    public static void main(String[] args) {
        int layers = 2, docs = 1, vocab = 128256, rounds = 5, chunk = 0;
        String attn = "sdpa";
        int[] seqs = {512};
        for (int i = 0; i < args.length; i += 2) {
            String v = args[i + 1];
            switch (args[i]) {
                case "--layers" -> layers = Integer.parseInt(v);
                case "--seq" -> seqs = Arrays.stream(v.split(",")).mapToInt(Integer::parseInt).toArray();
                case "--docs" -> docs = Integer.parseInt(v);
                case "--vocab" -> vocab = Integer.parseInt(v);
                case "--rounds" -> rounds = Integer.parseInt(v);
                case "--attn" -> attn = v;
                case "--chunk" -> chunk = Integer.parseInt(v);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; options: --layers --seq --docs --vocab --rounds --attn --chunk");
            }
        }
        Map<String, Object> config = Shapes.llama1b(layers, vocab);
        if (chunk > 0) config.put("attention_chunk_size", chunk);
        long t0 = System.nanoTime();
        LlamaModel model = Shapes.llama(config, attn);
        System.out.printf(Locale.ROOT, "Llama-3.2-1B shapes, %d layers, vocab %d, attn %s%s, threads %d; loaded in %.1f s%n",
                layers, vocab, attn, chunk > 0 ? ", attention_chunk_size " + chunk : "",
                Runtime.getRuntime().availableProcessors(), (System.nanoTime() - t0) / 1e9);
        CausalLmScorer scorer = new CausalLmScorer(model, null, Integer.MAX_VALUE, Map.of());
        System.out.println("tokens  docs  median_s  tokens/s  GFLOP  GFLOP/s  us/token");
        for (int S : seqs) {
            TextTokenizer.Tokens[] tokens = new TextTokenizer.Tokens[docs];
            int[][] ids = LayerBench.randomIds(docs, S, vocab);
            for (int d = 0; d < docs; d++) tokens[d] = new TextTokenizer.Tokens(ids[d], false);
            double gflop = docs * (layers * (chunk > 0 ? chunkedLayerFlops(model.config, S, chunk)
                    : Shapes.decoderLayerFlops(model.config, S)) + Shapes.lmHeadFlops(model.config, S)) / 1e9;
            scorer.scoreTokens(tokens, false);                      // warm-up
            List<Double> times = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                long s0 = System.nanoTime();
                scorer.scoreTokens(tokens, false);
                times.add((System.nanoTime() - s0) / 1e9);
            }
            times.sort(null);
            double med = times.get(times.size() / 2);
            System.out.printf(Locale.ROOT, "%6d  %4d  %8.3f  %8.0f  %5.0f  %7.1f  %8.1f%n", S, docs, med, docs * S / med, gflop,
                    gflop / med, med * 1e6 / (docs * S));
        }
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

    private static double linearOnly(LlamaModel.Config c, int S) {
        return Shapes.decoderLayerFlops(c, S) - 4.0 * c.heads() * c.headDim() * (S * (S + 1) / 2.0);
    }
}
