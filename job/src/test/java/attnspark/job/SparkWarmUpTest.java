package attnspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;

class SparkWarmUpTest {
    @Test
    void startsOncePerJvmEndsAndLeavesSparkWorking() throws Exception {
        Thread first = SparkWarmUp.start();
        assertNull(SparkWarmUp.start(), "a second call must not start a second warm-up");
        // a session and a query while the warm-up may still run (as in JobRunner.main)
        SparkSession spark = JobTesting.localSpark("spark-warm-up-test");
        try {
            Dataset<Row> squares =
                    spark.range(1, 101).withColumn("sq", functions.col("id").multiply(functions.col("id")));
            assertEquals(
                    100L * 101 * 201 / 6,
                    squares.agg(functions.sum("sq")).first().getLong(0));
        } finally {
            spark.stop();
        }
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals(SparkWarmUp.THREAD) || t == first) {
                t.join(120_000);
                assertFalse(t.isAlive(), "the warm-up thread must end");
            }
        }
    }
}
