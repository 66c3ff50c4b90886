package attnspark.job;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Keeps every task slot busy. Spark reads a small input file as one split (files under
 * {@code spark.sql.files.openCostInBytes}, 4 MB, are one partition; a multi-line CSV or a
 * one-row-group Parquet file is never split), and a task runs its model on
 * {@code spark.task.cpus} threads, so a 20,000-text JSON lines file would run as one task on one
 * core of a {@code local[*]} machine. When the input has fewer partitions than there are task
 * slots, it is spread round-robin over twice as many (two per slot, so a slot that finishes
 * early picks up a second one instead of idling through the other's tail). {@code --partitions}
 * overrides this.
 */
final class TaskSlots {
    private TaskSlots() {}

    /** Concurrent tasks the cluster runs now: default parallelism (cores) over {@code spark.task.cpus}. */
    static int slots(SparkSession spark) {
        int cpusPerTask =
                Math.max(1, Integer.parseInt(spark.sparkContext().getConf().get("spark.task.cpus", "1")));
        return Math.max(1, spark.sparkContext().defaultParallelism() / cpusPerTask);
    }

    /** {@code input} itself when it already has a partition per slot, else spread over 2 x slots. */
    static Dataset<Row> fill(SparkSession spark, Dataset<Row> input) {
        int slots = slots(spark);
        if (slots <= 1 || input.rdd().getNumPartitions() >= slots) {
            return input;
        }
        return input.repartition(2 * slots);
    }
}
