package attnspark.job;

import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.SparkSession;

/**
 * A separate program for {@link OneAnswerEverywhereTest}: loads a saved {@link PipelineModel}
 * (nothing of the saving JVM around), transforms a Parquet input and writes the result as Parquet.
 * Arguments: PIPELINE_DIR INPUT_PARQUET OUTPUT_DIR.
 */
public final class PipelineRoundTripMain {
    private PipelineRoundTripMain() {}

    public static void main(String[] args) {
        if (args.length != 3) {
            throw new IllegalArgumentException("usage: PipelineRoundTripMain PIPELINE_DIR INPUT_PARQUET OUTPUT_DIR");
        }
        SparkSession spark = SparkSession.builder()
                .master("local[1]")
                .appName("pipeline-round-trip")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .getOrCreate();
        try {
            PipelineModel.load(args[0])
                    .transform(spark.read().parquet(args[1]))
                    .write()
                    .parquet(args[2]);
        } finally {
            spark.stop();
        }
    }
}
