package attnspark.attention.hub;

import attnspark.attention.AttentionFunction;
import java.util.Map;

/**
 * An attention kernel from outside attnspark: the Java analogue of a kernels-hub repo
 * ({@code kernels-community/flash-attn2}). A jar provides one or more implementations and lists
 * them in {@code META-INF/services/attnspark.attention.hub.AttentionKernel}; {@link HubKernels}
 * finds them with {@link java.util.ServiceLoader} on the class path or in a kernels directory,
 * so a user adds a backend without touching attnspark.
 *
 * <p>Implementations need a public no-argument constructor (ServiceLoader's rule).
 */
public interface AttentionKernel {
    /** {@code org/repo}, e.g. {@code kernels-community/flash-attn2}; matched against the requested name. */
    String repo();

    /** What {@code org/repo@rev} must name to select this kernel. */
    default String revision() {
        return "main";
    }

    /** The functions this kernel exports, by name ({@code org/repo:name} selects one). */
    Map<String, AttentionFunction> functions();

    /**
     * The function used when the name has no {@code :function}. Null means: the only function if
     * there is exactly one, otherwise the user must name one.
     */
    default String defaultFunction() {
        return null;
    }

    /**
     * The name of a registered mask formatter whose output the functions expect (e.g. "eager",
     * "sdpa"). Null means HF's choice for hub kernels, which are flash-style: the
     * {@code flash_attention_2} formatter if one is registered, else sdpa's.
     */
    default String maskFormat() {
        return null;
    }
}
