package attnspark.attention.hub;

import java.nio.file.Path;

/**
 * Where hub kernels may come from and whether untrusted ones may load: HF's
 * {@code allow_all_kernels} plus the Java-only kernels directory (jars scanned by ServiceLoader).
 *
 * @param kernelsDir      directory of kernel jars, or null for the class path only
 * @param allowAllKernels load repos outside the trusted namespace too
 */
public record KernelSource(Path kernelsDir, boolean allowAllKernels) {
    /** Class path only, trusted namespace only. */
    public static final KernelSource DEFAULT = new KernelSource(null, false);
}
