package attnspark.attention;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The kernels behind {@code sdpa}, and a scoped choice among them, as
 * {@code torch.nn.attention.sdpa_kernel(backends, set_priority=False)}:
 * <pre>
 * try (SdpaKernel.Scope s = SdpaKernel.select(SdpaKernel.MATH)) {
 *     model.forward(batch, kwargs);          // sdpa runs the MATH kernel only
 * }                                          // previous selection restored, also on exception
 * </pre>
 * The selection is per thread (the thread that calls the attention function) and nests.
 * SDPA runs the first eligible kernel in priority order; none eligible is an
 * IllegalStateException naming why each allowed kernel was rejected.
 */
public enum SdpaKernel {
    /** Materialised scores, repeat_kv, any mask: eager's math. */
    MATH,
    /** The tiled online-softmax kernel shared with flash_attention_2; needs attn_mask == null. */
    FLASH_ATTENTION,
    /** The fused per-row kernel; takes any dense mask. */
    EFFICIENT_ATTENTION;

    /** torch's default order of preference. */
    static final List<SdpaKernel> DEFAULT_PRIORITY = List.of(FLASH_ATTENTION, EFFICIENT_ATTENTION, MATH);

    private static final ThreadLocal<List<SdpaKernel>> ALLOWED = ThreadLocal.withInitial(() -> DEFAULT_PRIORITY);

    /** The kernels SDPA may use on this thread now, in the order it tries them. */
    public static List<SdpaKernel> allowed() {
        return ALLOWED.get();
    }

    /** Only these kernels, tried in the default priority order. */
    public static Scope select(SdpaKernel... allowed) {
        List<SdpaKernel> wanted = Arrays.asList(check(allowed));
        List<SdpaKernel> ordered = new ArrayList<>();
        for (SdpaKernel k : DEFAULT_PRIORITY) if (wanted.contains(k)) ordered.add(k);
        return push(ordered);
    }

    /** Only these kernels, tried in the order given (torch's set_priority=True). */
    public static Scope selectWithPriority(SdpaKernel... allowed) {
        List<SdpaKernel> ordered = new ArrayList<>();
        for (SdpaKernel k : check(allowed)) if (!ordered.contains(k)) ordered.add(k);
        return push(ordered);
    }

    private static SdpaKernel[] check(SdpaKernel[] allowed) {
        if (allowed == null || allowed.length == 0) {
            throw new IllegalArgumentException("select at least one SDPA kernel: " + Arrays.toString(values()));
        }
        for (SdpaKernel k : allowed)
            if (k == null) throw new IllegalArgumentException("null SDPA kernel in " + Arrays.toString(allowed));
        return allowed;
    }

    private static Scope push(List<SdpaKernel> list) {
        List<SdpaKernel> previous = ALLOWED.get();
        ALLOWED.set(List.copyOf(list));
        return new Scope(previous, Thread.currentThread());
    }

    /** Restores the selection that was active when it was opened. */
    public static final class Scope implements AutoCloseable {
        private final List<SdpaKernel> previous;
        private final Thread owner;
        private boolean closed;

        private Scope(List<SdpaKernel> previous, Thread owner) {
            this.previous = previous;
            this.owner = owner;
        }

        @Override
        public void close() {
            if (closed) return;
            if (Thread.currentThread() != owner) {
                throw new IllegalStateException("an SdpaKernel scope must be closed on the thread that opened it ("
                        + owner.getName() + "); use try-with-resources");
            }
            closed = true;
            ALLOWED.set(previous);
        }
    }
}
