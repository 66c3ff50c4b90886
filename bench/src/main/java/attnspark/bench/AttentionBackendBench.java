package attnspark.bench;

import attnspark.attention.AttentionFunction;
import attnspark.attention.AttentionMask;
import attnspark.attention.AttentionModule;
import attnspark.attention.dispatch.AttentionInterface;
import attnspark.attention.dispatch.Masks;
import attnspark.tensor.FloatTensor;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
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
 * One causal self-attention call (B=1, 4 query heads over 2 kv heads, head_dim 64) per backend
 * and sequence length, with the mask each backend's formatter builds. Run with -prof gc to see
 * bytes allocated per call: eager and sdpa's mask grow with S², flash's state with S.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(
        value = 1,
        jvmArgs = {"-Xmx16g", "--add-modules=jdk.incubator.vector"})
public class AttentionBackendBench {
    @Param({"128", "512", "2048", "8192"})
    public int seqLen;

    @Param({"eager", "sdpa", "flex_attention", "flash_attention_2"})
    public String backend;

    static final int HEADS = 4, KV_HEADS = 2, HEAD_DIM = 64;
    FloatTensor q, k, v;
    AttentionMask mask;
    AttentionFunction fn;
    AttentionModule module;

    @Setup(Level.Trial)
    public void setUp() {
        if (backend.equals("eager") && seqLen > 4096) {
            // (1, 4, S, S) float weights plus repeat_kv: 1 GiB+ at 8192; measured up to 4096 only
            throw new IllegalStateException("eager skipped at S=" + seqLen + " (materialises S x S per head)");
        }
        Random r = new Random(1);
        q = rand(r, 1, HEADS, seqLen, HEAD_DIM);
        k = rand(r, 1, KV_HEADS, seqLen, HEAD_DIM);
        v = rand(r, 1, KV_HEADS, seqLen, HEAD_DIM);
        fn = AttentionInterface.ALL.get(backend);
        module = AttentionModule.of(true, 0, HEADS / KV_HEADS, (float) (1 / Math.sqrt(HEAD_DIM)));
        mask = Masks.createCausalMask(Masks.MaskInputs.of(backend, 1, seqLen, null));
    }

    static FloatTensor rand(Random r, int... shape) {
        FloatTensor t = FloatTensor.zeros(shape);
        for (int i = 0; i < t.data.length; i++) t.data[i] = (float) r.nextGaussian();
        return t;
    }

    @Benchmark
    public Object attention() {
        return fn.apply(module, q, k, v, mask, Map.of()).output();
    }
}
