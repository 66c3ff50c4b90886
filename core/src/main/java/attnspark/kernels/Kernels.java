package attnspark.kernels;

import attnspark.tensor.FloatTensor;
import org.bytedeco.openblas.global.openblas;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Chooses the matrix kernel with {@code -Dattnspark.kernel=}: {@code vector} (default with the
 * Vector API: {@link VectorLinear}, row-invariant), {@code openblas} (cblas_sgemm of the OpenBLAS
 * that ND4J's native backend ships; its bits for a row depend on the batch), {@code nd4j} (INDArray.mmul,
 * the route to ND4J's CUDA backend) or {@code java} (plain loops, the independent reference
 * in tests).
 */
public final class Kernels {
    private Kernels() {}

    /**
     * Vector API kernels (attention rows) run when the JVM has {@code jdk.incubator.vector}
     * ({@code --add-modules=jdk.incubator.vector}, in conf/java17-opens.txt, the scripts, the
     * Spark confs and the test JVM) unless {@code -Dattnspark.vector=false}; otherwise the plain
     * loops run. Same results to float rounding.
     */
    private static volatile boolean vectorApi =
            ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
                    && !"false".equals(System.getProperty("attnspark.vector"));

    public static boolean vectorApi() {
        return vectorApi;
    }

    /** Switches the Vector API kernels off (or back on, if the module is there); returns the previous setting. For tests and benchmarks. */
    public static boolean useVectorApi(boolean on) {
        boolean prev = vectorApi;
        vectorApi = on && ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        return prev;
    }

    /** The kernel and count last applied ("openblas/2"), so a task start costs one string compare. */
    private static volatile String blasThreads = "";

    /**
     * Sets the BLAS thread count of this process (OpenBLAS, which both the openblas and nd4j
     * kernels call, plus ND4J's own op threads for nd4j), once per distinct kernel and value.
     * The vector and java kernels have no BLAS: nothing native is loaded for them.
     */
    static void blasThreads(int n) {
        String key = selected() + "/" + n;
        if (blasThreads.equals(key)) {
            return;
        }
        synchronized (Kernels.class) {
            switch (selected()) {
                case "openblas" -> openblas.blas_set_num_threads(n);
                case "nd4j" -> {
                    openblas.blas_set_num_threads(n);
                    Nd4j.getEnvironment().setMaxThreads(n);
                    Nd4j.getEnvironment().setMaxMasterThreads(n);
                }
                default -> {}
            }
            blasThreads = key;
        }
    }

    /** OpenBLAS's thread count as OpenBLAS reports it (loads OpenBLAS). */
    public static int openBlasThreads() {
        return openblas.blas_get_num_threads();
    }

    /**
     * Default: {@code vector} where the JVM has the Vector API (faster here than the bundled
     * OpenBLAS 0.3.19, and row-invariant, which batch-invariant embeddings need), else openblas.
     */
    public static String selected() {
        return System.getProperty("attnspark.kernel", vectorApi ? "vector" : "openblas");
    }

    /** Inputs above which the vector linears run k in steps (per CPU vendor; see VectorLinear.kStepsAbove). */
    public static int linearKStepsAbove() {
        return VectorLinear.kStepsAbove();
    }

    /** weight (out, in) as HF stores nn.Linear; bias (out) or null. */
    public static Linear linear(FloatTensor weight, FloatTensor bias) {
        if (weight.rank() != 2)
            throw new IllegalArgumentException("linear weight must be 2-D (out, in), got " + weight);
        if (bias != null && bias.size() != weight.dim(0)) {
            throw new IllegalArgumentException("bias of size " + bias.size() + " does not match weight " + weight);
        }
        return switch (selected()) {
            case "java" -> new JavaLinear(weight, bias);
            case "vector" -> {
                if (!vectorApi) {
                    throw new IllegalArgumentException(
                            "attnspark.kernel=vector needs the JVM option --add-modules=jdk.incubator.vector"
                                    + " (and not -Dattnspark.vector=false); or choose openblas");
                }
                yield new VectorLinear(weight, bias);
            }
            case "openblas" -> new OpenBlasLinear(weight, bias);
            case "nd4j" -> new Nd4jLinear(weight, bias);
            default ->
                throw new IllegalArgumentException(
                        "unknown attnspark.kernel '" + selected() + "'; valid: vector, openblas, nd4j, java");
        };
    }
}
