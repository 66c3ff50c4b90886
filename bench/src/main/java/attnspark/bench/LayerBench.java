package attnspark.bench;

import attnspark.models.SequenceBatch;
import attnspark.models.bert.BertModel;
import attnspark.models.llama.LlamaModel;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One transformer layer, random weights, real shapes:
 * <ul>
 *   <li>{@code encoder}: all-MiniLM-L6-v2's layer (hidden 384, 12 heads, FFN 1536, GELU) over a
 *       batch of about 4096 tokens of sequences of {@code encSeq} tokens;</li>
 *   <li>{@code decoder}: Llama-3.2-1B's layer (hidden 2048, 32 query / 8 kv heads, head_dim 64,
 *       SwiGLU FFN 8192) over one causal sequence of {@code decSeq} tokens.</li>
 * </ul>
 * Throughput mode: the primary score is calls/s; the {@code gflop} counter is GFLOP/s (the flops
 * of each call, printed at setup, counted per call). Run: {@code scripts/bench-layers}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(
        value = 1,
        jvmArgs = {"-Xmx6g", "--add-modules=jdk.incubator.vector"})
public class LayerBench {
    /** Reported per second: GFLOP/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public double gflop;
    }

    @State(Scope.Benchmark)
    public static class Encoder {
        @Param({"41", "256"})
        public int encSeq;

        @Param({"sdpa"})
        public String attn;

        BertModel model;
        SequenceBatch batch;
        double gflopPerCall;

        @Setup(Level.Trial)
        public void setUp() {
            model = Shapes.bert(Shapes.miniLm(1), attn);
            int B = Math.max(1, 4096 / encSeq);
            batch = new SequenceBatch(randomIds(B, encSeq, model.config.vocabSize()));
            gflopPerCall = Shapes.encoderLayerFlops(model.config, B, encSeq) / 1e9;
            System.out.printf("%nencoder layer: %d x %d tokens, %.3f GFLOP per call%n", B, encSeq, gflopPerCall);
        }
    }

    @State(Scope.Benchmark)
    public static class Decoder {
        @Param({"128", "512", "2048"})
        public int decSeq;

        @Param({"sdpa"})
        public String attn;

        LlamaModel model;
        SequenceBatch batch;
        double gflopPerCall;

        @Setup(Level.Trial)
        public void setUp() {
            model = Shapes.llama(Shapes.llama1b(1, 1024), attn);
            batch = new SequenceBatch(randomIds(1, decSeq, model.vocabSize()));
            gflopPerCall = Shapes.decoderLayerFlops(model.config, decSeq) / 1e9;
            System.out.printf("%ndecoder layer: 1 x %d tokens, %.3f GFLOP per call%n", decSeq, gflopPerCall);
        }
    }

    static int[][] randomIds(int B, int S, int vocab) {
        Random r = new Random(7);
        int[][] ids = new int[B][S];
        for (int[] row : ids) for (int s = 0; s < S; s++) row[s] = r.nextInt(vocab);
        return ids;
    }

    @Benchmark
    public Object encoder(Encoder e, Flops f) {
        f.gflop += e.gflopPerCall;
        return e.model.forward(e.batch, Map.of());
    }

    @Benchmark
    public Object decoder(Decoder d, Flops f) {
        f.gflop += d.gflopPerCall;
        return d.model.forward(d.batch, Map.of());
    }
}
