package attnspark.udf;

import attnspark.kernels.Parallel;
import org.apache.spark.TaskContext;

/**
 * A Spark task computes with exactly its {@code spark.task.cpus} cores (default 1): its Java
 * parallel loops and BLAS get that many threads. Without it, {@code local[*]} on N cores would
 * run N tasks each spreading over N BLAS threads and the whole fork-join pool (N² busy threads).
 */
public final class TaskThreads {
    private TaskThreads() {}

    /** The cores of the running task; outside a task, the caller's current {@link Parallel#threads()}. */
    public static int cpus() {
        TaskContext tc = TaskContext.get();
        return tc == null ? Parallel.threads() : Math.max(1, tc.cpus());
    }

    /** Opens the thread scope of the running task on this thread; close it when the model call returns. */
    public static Parallel.Scope open() {
        return Parallel.scope(cpus());
    }
}
