package attnspark.udf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import attnspark.api.ModelOptions;
import attnspark.kernels.Kernels;
import attnspark.kernels.OpenBlasKernel;
import attnspark.kernels.Parallel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Inside a Spark task the model runs under the task's spark.task.cpus: the Java loops' thread
 * count and OpenBLAS's are what the model sees while it computes (recorded by a stand-in model).
 * The job's tasks also take up the cores their executor leaves idle, and only those.
 */
@ExtendWith(OpenBlasKernel.class) // the OpenBLAS thread count is checked too
class TaskThreadsTest {
    /** "threads=J blas=B" as seen inside each model call. */
    static final Set<String> SEEN = ConcurrentHashMap.newKeySet();

    @AfterEach
    void reset() {
        ModelReplicas.setFactoryForTests(null);
        SEEN.clear();
    }

    static Set<String> runWithTaskCpus(int taskCpus) {
        ModelReplicas.setFactoryForTests(FakeModels.watchingEmbeds(
                texts -> SEEN.add("threads=" + Parallel.threads() + " blas=" + Kernels.openBlasThreads())));
        SparkSession spark = LocalSpark.builder("task-threads")
                .config("spark.task.cpus", String.valueOf(taskCpus))
                .getOrCreate();
        try {
            List<Row> rows = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                rows.add(RowFactory.create(String.valueOf(i), "text number " + i, null));
            }
            Dataset<Row> in = spark.createDataFrame(rows, OutputSchemas.input()).repartition(4);
            long n = in.mapPartitions(
                            new EmbedPartitionFunction(ModelOptions.defaults(), "id", "text", 5),
                            Encoders.row(OutputSchemas.embed()))
                    .count();
            assertEquals(40, n);
        } finally {
            spark.stop();
        }
        return Set.copyOf(SEEN);
    }

    @Test
    void defaultTaskCpusIsOneThread() {
        assertEquals(Set.of("threads=1 blas=1"), runWithTaskCpus(1));
    }

    @Test
    void twoTaskCpusGiveTwoThreads() {
        assertEquals(Set.of("threads=2 blas=2"), runWithTaskCpus(2));
    }

    /** The threads seen in the model calls of a job over {@code partitions} partitions on local[2] taking up idle cores. */
    static Set<String> runTakingUpIdleCores(int partitions, Consumer<List<String>> inModelCall) {
        ModelReplicas.setFactoryForTests(FakeModels.watchingEmbeds(inModelCall));
        SparkSession spark = LocalSpark.start("idle-cores");
        try {
            List<Row> rows = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                rows.add(RowFactory.create(String.valueOf(i), "text number " + i, null));
            }
            Dataset<Row> in = spark.createDataFrame(rows, OutputSchemas.input()).repartition(partitions);
            long n = in.mapPartitions(
                            new EmbedPartitionFunction(ModelOptions.defaults(), "id", "text", 100).withIdleCores(),
                            Encoders.row(OutputSchemas.embed()))
                    .count();
            assertEquals(40, n);
        } finally {
            spark.stop();
        }
        return Set.copyOf(SEEN);
    }

    @Test
    void aTaskAloneOnItsExecutorTakesUpTheIdleCore() {
        // one partition on local[2]: the second slot has nothing to run
        assertEquals(
                Set.of("threads=2 blas=1"),
                runTakingUpIdleCores(
                        1, texts -> SEEN.add("threads=" + Parallel.threads() + " blas=" + Kernels.openBlasThreads())));
    }

    @Test
    void tasksRunningSideBySideKeepTheirOwnCores() {
        // both tasks inside their model call at once (the barrier), each records what it gets then
        CyclicBarrier together = new CyclicBarrier(2);
        assertEquals(Set.of("threads=1"), runTakingUpIdleCores(2, texts -> {
            try {
                together.await(60, TimeUnit.SECONDS);
                SEEN.add("threads=" + Parallel.threads());
                together.await(60, TimeUnit.SECONDS); // neither task completes before both have recorded
            } catch (Exception e) {
                throw new IllegalStateException("the two tasks did not meet in their model calls", e);
            }
        }));
    }

    @Test
    void idleCoresAreSharedInProportionToTheTasksOwn() {
        assertEquals(2, TaskThreads.share(1, 2, 1));
        assertEquals(1, TaskThreads.share(1, 2, 2));
        assertEquals(2, TaskThreads.share(1, 8, 3)); // 5 idle cores over 3 tasks: one more each, 6 of 8 busy
        assertEquals(4, TaskThreads.share(2, 8, 4)); // two 2-core tasks on 8: each doubles
        assertEquals(1, TaskThreads.share(1, 4, 6)); // more busy than cores (other tasks' counts): own cores only
    }

    @Test
    void executorCoresComeFromTheLocalMasterOrSparkExecutorCores() {
        assertEquals(1, TaskThreads.executorCores(new SparkConf().set("spark.master", "local")));
        assertEquals(3, TaskThreads.executorCores(new SparkConf().set("spark.master", "local[3]")));
        assertEquals(4, TaskThreads.executorCores(new SparkConf().set("spark.master", "local[4, 2]")));
        assertEquals(
                Runtime.getRuntime().availableProcessors(),
                TaskThreads.executorCores(new SparkConf().set("spark.master", "local[*]")));
        assertEquals(
                6,
                TaskThreads.executorCores(
                        new SparkConf().set("spark.master", "spark://m:7077").set("spark.executor.cores", "6")));
        assertEquals(0, TaskThreads.executorCores(new SparkConf().set("spark.master", "yarn")));
    }
}
