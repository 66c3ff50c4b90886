package attnspark.udf;

import java.util.Iterator;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;
import org.apache.spark.sql.SparkSession;
import scala.collection.JavaConverters;

/**
 * The job's options, read from the {@code spark.attnspark.*} keys of a Spark conf, for the SQL
 * UDFs ({@link EmbedText}, {@link ScoreText}). The job module implements it with its own option
 * table and parser (attnspark.job.Settings: same names, defaults, checks and messages as the
 * CLI; an unknown key fails naming it), found here with {@link ServiceLoader} so that udf does
 * not depend on job. The answer is the job's own partition function, so a UDF row is computed
 * exactly as a job row.
 */
public interface UdfSettings {
    /** The embed job's partition function for the {@code spark.attnspark.*} entries of {@code sparkConf}. */
    EmbedPartitionFunction embedFunction(Map<String, String> sparkConf);

    /** The score job's partition function for the {@code spark.attnspark.*} entries of {@code sparkConf}. */
    ScorePartitionFunction scoreFunction(Map<String, String> sparkConf);

    /** The implementation on the class path (the job jar's); fails naming the jar to add when there is none. */
    static UdfSettings find() {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        Iterator<UdfSettings> found = ServiceLoader.load(
                        UdfSettings.class, loader != null ? loader : UdfSettings.class.getClassLoader())
                .iterator();
        if (!found.hasNext()) {
            throw new IllegalStateException("the attnspark UDFs read their spark.attnspark.* settings through the job"
                    + " module, which is not on the class path: add the job jar (attnspark-job-<version>-spark.jar,"
                    + " built by `mvn package` in job/target/) with --jars or spark.jars");
        }
        return found.next();
    }

    /** The active session's conf (runtime {@code spark.conf.set} included): what a UDF built on the driver reads. */
    static Map<String, String> activeSessionConf() {
        SparkSession spark = SparkSession.getActiveSession().isDefined()
                ? SparkSession.getActiveSession().get()
                : SparkSession.getDefaultSession().isDefined()
                        ? SparkSession.getDefaultSession().get()
                        : null;
        if (spark == null) {
            throw new IllegalStateException("no active SparkSession: the attnspark UDFs read spark.attnspark.* from the"
                    + " session that registers them; register them with spark.udf().registerJava on the driver");
        }
        return conf(spark);
    }

    /** {@code spark}'s conf, runtime {@code spark.conf.set} included. */
    static Map<String, String> conf(SparkSession spark) {
        return new TreeMap<>(JavaConverters.mapAsJavaMap(spark.conf().getAll()));
    }
}
