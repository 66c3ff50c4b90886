package attnspark.udf;

import org.apache.spark.sql.SparkSession;

/**
 * The Spark session the tests start (one per test class): local[2], loopback only, no UI, two
 * shuffle partitions. A test adds what it studies (spark.task.cpus, heartbeat interval, ...)
 * to the builder.
 */
public final class LocalSpark {
    private LocalSpark() {}

    public static SparkSession.Builder builder(String appName) {
        return SparkSession.builder()
                .master("local[2]")
                .appName(appName)
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1");
    }

    public static SparkSession start(String appName) {
        return builder(appName).getOrCreate();
    }
}
