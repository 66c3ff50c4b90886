package attnspark.kernels;

import attnspark.tensor.FloatTensor;

/**
 * Chooses the matrix kernel: {@code -Dattnspark.kernel=nd4j} (default: BLAS through ND4J,
 * fast on the large token-batched shapes the models produce) or {@code java} (plain loops,
 * used as an independent reference in tests).
 */
public final class Kernels {
    private Kernels() {
    }

    public static String selected() {
        return System.getProperty("attnspark.kernel", "nd4j");
    }

    /** weight (out, in) as HF stores nn.Linear; bias (out) or null. */
    public static Linear linear(FloatTensor weight, FloatTensor bias) {
        if (weight.rank() != 2) throw new IllegalArgumentException("linear weight must be 2-D (out, in), got " + weight);
        if (bias != null && bias.size() != weight.dim(0)) {
            throw new IllegalArgumentException("bias of size " + bias.size() + " does not match weight " + weight);
        }
        return switch (selected()) {
            case "java" -> new JavaLinear(weight, bias);
            case "nd4j" -> new Nd4jLinear(weight, bias);
            default -> throw new IllegalArgumentException("unknown attnspark.kernel '" + selected() + "'; valid: nd4j, java");
        };
    }
}
