package attnspark.job;

import attnspark.attention.AttentionCapability;
import attnspark.attention.AttentionFunction;
import attnspark.attention.AttentionMask;
import attnspark.attention.AttentionModule;
import attnspark.attention.AttentionOutput;
import attnspark.attention.dispatch.AttentionInterface;
import attnspark.attention.hub.AttentionKernel;
import attnspark.tensor.FloatTensor;
import java.util.Map;
import java.util.Set;

/**
 * {@code kernels-community/slow-sdpa}: sdpa, {@link #SLEEP_MS} later. StandaloneClusterTest
 * packs this class alone into a kernels-dir jar and embeds with {@code --attn
 * kernels-community/slow-sdpa}, so the job lasts long enough to kill an executor while tasks
 * still run; the numbers are sdpa's, so the output must equal a plain local run. No services
 * file lists it on the test class path: nothing else loads it.
 */
public class SlowSdpaKernel implements AttentionKernel {
    public static final String REPO = "kernels-community/slow-sdpa";
    /** Per attention call: MiniLM makes 6 per batch, so a 25-text chunk takes at least 0.6 s. */
    static final long SLEEP_MS = 100;

    @Override
    public String repo() {
        return REPO;
    }

    @Override
    public Map<String, AttentionFunction> functions() {
        AttentionFunction sdpa = AttentionInterface.ALL.get(AttentionInterface.SDPA);
        return Map.of("attention", new AttentionFunction() {
            @Override
            public AttentionOutput apply(
                    AttentionModule module,
                    FloatTensor q,
                    FloatTensor k,
                    FloatTensor v,
                    AttentionMask mask,
                    Map<String, Object> kwargs) {
                try {
                    Thread.sleep(SLEEP_MS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted (task killed)", e);
                }
                return sdpa.apply(module, q, k, v, mask, kwargs);
            }

            @Override
            public Set<AttentionCapability> capabilities() {
                return sdpa.capabilities();
            }
        });
    }

    /** sdpa's mask, which the delegate understands (HF's default for hub kernels is flash's). */
    @Override
    public String maskFormat() {
        return AttentionInterface.SDPA;
    }
}
