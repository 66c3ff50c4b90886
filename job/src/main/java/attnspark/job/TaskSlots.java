package attnspark.job;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RuntimeConfig;
import org.apache.spark.sql.SparkSession;

/**
 * Keeps every task slot busy. Spark reads a small input file as one split (files under
 * {@code spark.sql.files.openCostInBytes}, 4 MB, are one partition; a multi-line CSV or a
 * one-row-group Parquet file is never split), and a task runs its model on
 * {@code spark.task.cpus} threads, so a 20,000-text JSON lines file would run as one task on one
 * core of a {@code local[*]} machine. When the input has fewer partitions than there are task
 * slots, it is spread round-robin over twice as many (two per slot, so a slot that finishes
 * early picks up a second one instead of idling through the other's tail). {@code --partitions}
 * overrides this. A splittable file (JSON lines, Parquet with several row groups) is better cut
 * into that many splits as it is read ({@link #splitFilesForSlots}): no shuffle, and the rows keep
 * their input order. The CLI's session does both.
 */
final class TaskSlots {
    private TaskSlots() {}

    /**
     * What Spark counts for opening a file when it sizes splits, and the smallest split it cuts
     * for the slots. Small, so that a file's splits come out even: Spark's
     * {@code FilePartition.maxSplitBytes} sizes each split as {@code (bytes + files x openCost) /
     * minPartitionNum}, so a single file's last split is {@code 3/4 x openCost} short of the
     * others (4 splits). With 64 KB the last of the 20,000-text job's four splits held 7 % less
     * text and its task ended ~1.5 s before the other second-wave task, leaving a slot idle; the
     * STS-B bench input (213 KB) got a last split of a few lines (tasks of 0.35 against 5.7 s).
     */
    static final long OPEN_COST_BYTES = 4 * 1024;

    /**
     * Makes Spark cut the files this session reads into about 2 x slots even splits (Spark's
     * {@code FilePartition.maxSplitBytes}: {@code min(maxPartitionBytes, max(openCostInBytes,
     * (bytes + files x openCostInBytes) / minPartitionNum))}), so a 4 MB JSON lines file becomes
     * four partitions instead of one that {@link #fill} would have to shuffle round-robin (the
     * 20,000-text job then skips a stage: ~0.8 s). Settings the user gave are left alone.
     */
    static void splitFilesForSlots(SparkSession spark) {
        setUnlessGiven(spark.conf(), "spark.sql.files.minPartitionNum", 2L * slots(spark));
        setUnlessGiven(spark.conf(), "spark.sql.files.openCostInBytes", OPEN_COST_BYTES);
    }

    private static void setUnlessGiven(RuntimeConfig conf, String key, long value) {
        if (!conf.contains(key)) {
            conf.set(key, value);
        }
    }

    /** Concurrent tasks the cluster runs now: default parallelism (cores) over {@code spark.task.cpus}. */
    static int slots(SparkSession spark) {
        int cpusPerTask =
                Math.max(1, Integer.parseInt(spark.sparkContext().getConf().get("spark.task.cpus", "1")));
        return Math.max(1, spark.sparkContext().defaultParallelism() / cpusPerTask);
    }

    /** {@code input} itself when it already has a partition per slot, else spread over 2 x slots. */
    static Dataset<Row> fill(SparkSession spark, Dataset<Row> input) {
        int slots = slots(spark);
        // the plan's own partitions: Dataset.rdd() would also generate a Row deserializer, on the
        // driver's way to the first task (this check took 0.44-0.55 s of the 20,000-text job against 0.71-1.05)
        if (slots <= 1 || input.queryExecution().toRdd().getNumPartitions() >= slots) {
            return input;
        }
        return input.repartition(2 * slots);
    }
}
