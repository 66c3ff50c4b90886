package attnspark.attention.hub;

import attnspark.attention.AttentionCapability;
import attnspark.attention.AttentionFunction;
import attnspark.attention.AttentionMask;
import attnspark.attention.AttentionModule;
import attnspark.attention.AttentionOutput;
import attnspark.attention.EagerAttention;
import attnspark.tensor.FloatTensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The kernel the hub tests load through META-INF/services: {@code kernels-community/test-attn}
 * (revision main). Both functions delegate to eager and count their calls, so a test can check
 * the output against eager and that this kernel (and which function) actually ran.
 */
public class TestAttnKernel implements AttentionKernel {
    public static final AtomicInteger MAIN_CALLS = new AtomicInteger();
    public static final AtomicInteger ALT_CALLS = new AtomicInteger();

    /** Eager behind a counter; it declares eager's capabilities, which the parity suite then checks. */
    static AttentionFunction counting(AtomicInteger counter) {
        EagerAttention eager = new EagerAttention();
        return new AttentionFunction() {
            @Override
            public AttentionOutput apply(
                    AttentionModule module,
                    FloatTensor q,
                    FloatTensor k,
                    FloatTensor v,
                    AttentionMask mask,
                    Map<String, Object> kwargs) {
                counter.incrementAndGet();
                return eager.apply(module, q, k, v, mask, kwargs);
            }

            @Override
            public Set<AttentionCapability> capabilities() {
                return eager.capabilities();
            }
        };
    }

    @Override
    public String repo() {
        return "kernels-community/test-attn";
    }

    @Override
    public Map<String, AttentionFunction> functions() {
        Map<String, AttentionFunction> m = new LinkedHashMap<>();
        m.put("attention", counting(MAIN_CALLS));
        m.put("attention_alt", counting(ALT_CALLS));
        return m;
    }

    @Override
    public String defaultFunction() {
        return "attention";
    }

    /** Eager's additive mask: what the delegate understands (not HF's flash default). */
    @Override
    public String maskFormat() {
        return "eager";
    }

    /** The same repo published at revision v2 (for {@code @rev} selection). */
    public static class V2 extends TestAttnKernel {
        public static final AtomicInteger CALLS = new AtomicInteger();

        @Override
        public String revision() {
            return "v2";
        }

        @Override
        public Map<String, AttentionFunction> functions() {
            return Map.of("attention", counting(CALLS));
        }
    }

    /** A repo outside the trusted namespace: loads only with allowAllKernels. */
    public static class OtherOrg extends TestAttnKernel {
        @Override
        public String repo() {
            return "other-org/x";
        }
    }

    /** Outside the trusted namespace, for the explicit allow-list test (HubKernels.trust). */
    public static class PartnerOrg extends TestAttnKernel {
        @Override
        public String repo() {
            return "partner-org/attn";
        }
    }
}
