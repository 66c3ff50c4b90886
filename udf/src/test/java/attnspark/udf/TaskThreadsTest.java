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
}
