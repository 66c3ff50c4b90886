package attnspark.udf;

import attnspark.kernels.Parallel;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;

/**
 * A Spark task computes with exactly its {@code spark.task.cpus} cores (default 1): its Java
 * parallel loops and BLAS get that many threads. Without it, {@code local[*]} on N cores would
 * run N tasks each spreading over N BLAS threads and the whole fork-join pool (N² busy threads).
 * <p>
 * The job's model tasks may also take up cores their executor leaves idle ({@link
 * #withIdleCores}): at the end of a stage, the slots whose tasks finished have nothing left to
 * run while the last tasks still compute on one core each (the 20,000-text job on 2 cores spent
 * ~3 s of its ~58 s model stage on one core). Each running model task then gets its share of the
 * idle cores at every parallel loop; the results' bits do not depend on the thread count.
 */
public final class TaskThreads {
    private TaskThreads() {}

    /** spark.task.cpus summed over the model tasks of this JVM that take up idle cores. */
    private static final AtomicInteger SHARING_CPUS = new AtomicInteger();

    /** The cores of the running task; outside a task, the caller's current {@link Parallel#threads()}. */
    public static int cpus() {
        TaskContext tc = TaskContext.get();
        return tc == null ? Parallel.threads() : Math.max(1, tc.cpus());
    }

    /** Opens the thread scope of the running task on this thread; close it when the model call returns. */
    public static Parallel.Scope open() {
        return Parallel.scope(cpus());
    }

    /**
     * The thread count of the running task's model calls, taking up idle cores: counts the task
     * among this JVM's sharing model tasks until it completes, and answers, at each call, its
     * {@code spark.task.cpus} plus its share of the executor's cores those tasks leave idle
     * ({@link #share}). Just the task's cpus outside a task or when the executor's cores are not
     * known (a cluster executor without {@code spark.executor.cores}). Only model tasks are
     * counted: a task of another job running in the same executor would be oversubscribed, so
     * only the CLI job, which runs nothing beside its model stage, asks for this.
     */
    public static IntSupplier withIdleCores() {
        int cpus = cpus();
        TaskContext tc = TaskContext.get();
        int executorCores = tc == null ? 0 : executorCores(SparkEnv.get().conf());
        if (executorCores <= cpus) {
            return () -> cpus;
        }
        SHARING_CPUS.addAndGet(cpus);
        tc.addTaskCompletionListener(done -> {
            SHARING_CPUS.addAndGet(-cpus);
        });
        return () -> share(cpus, executorCores, SHARING_CPUS.get());
    }

    /**
     * Threads of a task of {@code cpus} cores when tasks holding {@code busy} cores in all run on
     * an executor of {@code executorCores}: its own, plus the idle cores in proportion to its own
     * (rounded down, so the tasks together never exceed the executor's cores).
     */
    static int share(int cpus, int executorCores, int busy) {
        int idle = executorCores - busy;
        return idle <= 0 || busy <= 0 ? cpus : cpus + idle * cpus / busy;
    }

    /**
     * This executor's cores: N of {@code local[N]} ({@code local[*]}: the JVM's processors; plain
     * {@code local}: 1), else {@code spark.executor.cores}; 0 when neither says.
     */
    static int executorCores(SparkConf conf) {
        String master = conf.get("spark.master", "");
        if (master.equals("local")) {
            return 1;
        }
        if (master.startsWith("local[")) {
            String n = master.substring("local[".length(), master.length() - 1)
                    .split(",")[0]
                    .trim();
            return n.equals("*") ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(n);
        }
        return conf.getInt("spark.executor.cores", 0);
    }
}
