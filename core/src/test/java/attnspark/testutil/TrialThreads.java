package attnspark.testutil;

import attnspark.kernels.Parallel;

/**
 * The threads a batch-invariance trial computes with (the references, each sequence alone, use
 * the JVM's default: all cores): one, three, or a count that moves 1, 2, 3, 1, ... at every
 * parallel loop, as a Spark task's does when it takes up cores its executor's other tasks left
 * idle (attnspark.udf.TaskThreads).
 */
public final class TrialThreads {
    private TrialThreads() {}

    public static Parallel.Scope of(int trial) {
        return switch (trial % 3) {
            case 0 -> Parallel.scope(1);
            case 1 -> Parallel.scope(3);
            default -> {
                int[] loops = {0};
                yield Parallel.scope(() -> 1 + loops[0]++ % 3, 1);
            }
        };
    }

    public static String describe(int trial) {
        return switch (trial % 3) {
            case 0 -> "1";
            case 1 -> "3";
            default -> "1, 2, 3, ... by loop";
        };
    }
}
