package attnspark.attention.dispatch;

import attnspark.attention.AttentionCapability;
import attnspark.attention.AttentionFunction;
import attnspark.attention.AttentionMask;
import attnspark.attention.AttentionModule;
import attnspark.attention.AttentionOutput;
import attnspark.attention.EagerAttention;
import attnspark.attention.SdpaAttention;
import attnspark.attention.flash.FlashAttention2;
import attnspark.attention.flex.FlexAttention;
import attnspark.attention.paged.PagedAttention;
import attnspark.tensor.FloatTensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Name -> attention function, as HF's {@code AttentionInterface}. {@code eager} is the
 * model's own default and {@code paged|X} is valid iff X is (paged backends come with the
 * paged KV cache). Add a backend: one class plus one line in {@link #defaults()}.
 */
public final class AttentionInterface extends GeneralInterface<AttentionFunction> {
    public static final String EAGER = EagerAttention.NAME;
    public static final String SDPA = SdpaAttention.NAME;

    private static final Map<String, AttentionFunction> GLOBAL = newGlobal(defaults());

    /** The names this build registers itself, before any run-time {@link #register}. */
    public static final Set<String> BUILT_IN = Set.copyOf(GLOBAL.keySet());

    private static Map<String, AttentionFunction> defaults() {
        Map<String, AttentionFunction> m = new LinkedHashMap<>();
        m.put(EAGER, new EagerAttention());
        m.put(SDPA, new SdpaAttention());
        m.put("flex_attention", new FlexAttention());
        m.put("paged|eager", PagedAttention.eager());
        m.put("paged|sdpa", PagedAttention.sdpa());
        m.put(FlashAttention2.NAME, new FlashAttention2());
        m.put("paged|flash_attention_2", new PagedAttention("paged|flash_attention_2", new FlashAttention2()));
        m.put("flash_attention_3", Unavailable.flashAttention3("flash_attention_3"));
        m.put("paged|flash_attention_3", Unavailable.flashAttention3("paged|flash_attention_3"));
        return m;
    }

    /**
     * A name HF knows whose kernel this build cannot run (flash_attention_3 is a Hopper-only CUDA
     * kernel): registered so the name is valid, but selecting it fails at load time, as HF's
     * init-time check does, and calling it explains what it needs instead of computing.
     */
    public record Unavailable(String name, String reason) implements AttentionFunction {
        static Unavailable flashAttention3(String name) {
            return new Unavailable(
                    name,
                    "'" + name + "' needs an NVIDIA Hopper (sm_90) GPU and the CUDA build (mvn -Pcuda);"
                            + " this build/machine has none. Use '"
                            + name.replace("flash_attention_3", "flash_attention_2")
                            + "' instead: the same flash semantics (varlen, bottom-right causal, sliding window, softcap, sinks)"
                            + " on the CPU.");
        }

        /** None: every call raises {@link #error()}. */
        @Override
        public Set<AttentionCapability> capabilities() {
            return Set.of();
        }

        public UnsupportedOperationException error() {
            return new UnsupportedOperationException(reason);
        }

        @Override
        public AttentionOutput apply(
                AttentionModule module,
                FloatTensor query,
                FloatTensor key,
                FloatTensor value,
                AttentionMask mask,
                Map<String, Object> kwargs) {
            throw error();
        }
    }

    /** The process-wide instance (HF's ALL_ATTENTION_FUNCTIONS). */
    public static final AttentionInterface ALL = new AttentionInterface();

    public AttentionInterface() {
        super(GLOBAL);
    }

    /** Visible to every instance, present and future. */
    public static void register(String name, AttentionFunction fn) {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("attention name must be non-empty");
        GLOBAL.put(name, fn);
    }

    /** HF's split_attention_implementation: {@code "paged|x"} -> (true, "x"), {@code "x"} -> (false, "x"). */
    public record Split(boolean paged, String base) {}

    public static Split split(String name) {
        if (name == null) return new Split(false, null);
        return name.startsWith(PAGED_PREFIX)
                ? new Split(true, name.substring(PAGED_PREFIX.length()))
                : new Split(false, name);
    }

    public static final String PAGED_PREFIX = "paged|";

    /**
     * The function for {@code name}; unknown names fail listing every valid one. {@code paged|x}
     * without its own registration is x wrapped in {@link attnspark.attention.paged.PagedAttention},
     * so it is valid iff x is.
     */
    public AttentionFunction get(String name) {
        if (name == null) throw new IllegalArgumentException("attention implementation is null; valid: " + validKeys());
        AttentionFunction fn = lookup(name);
        Split split = split(name);
        if (fn == null && split.paged() && !split.base().startsWith(PAGED_PREFIX) && lookup(split.base()) != null) {
            fn = new PagedAttention(name, lookup(split.base()));
        }
        if (fn == null) {
            throw new IllegalArgumentException(
                    "'" + name + "' is not a registered attention implementation. Valid names: " + validKeys()
                            + ". Register a custom one with AttentionInterface.register(name, fn).");
        }
        return fn;
    }
}
