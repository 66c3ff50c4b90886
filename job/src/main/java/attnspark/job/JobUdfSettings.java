package attnspark.job;

import attnspark.udf.EmbedPartitionFunction;
import attnspark.udf.ScorePartitionFunction;
import attnspark.udf.UdfSettings;
import java.util.Map;

/**
 * The UDFs' settings ({@link UdfSettings}, registered in META-INF/services): the job's option
 * table read from a session's {@code spark.attnspark.*} keys by {@link Settings#fromSessionConf},
 * and the job's own partition function for the resulting spec. A bad key or value fails with
 * the CLI's message, as an {@link IllegalArgumentException} (what Spark users expect from a
 * function registration) naming where the key came from.
 */
public final class JobUdfSettings implements UdfSettings {
    @Override
    public EmbedPartitionFunction embedFunction(Map<String, String> sparkConf) {
        return (EmbedPartitionFunction) JobRunner.partitionFunction(spec(JobSpec.Command.EMBED, sparkConf));
    }

    @Override
    public ScorePartitionFunction scoreFunction(Map<String, String> sparkConf) {
        return (ScorePartitionFunction) JobRunner.partitionFunction(spec(JobSpec.Command.SCORE, sparkConf));
    }

    private static JobSpec spec(JobSpec.Command command, Map<String, String> sparkConf) {
        try {
            return Settings.fromSessionConf(command, sparkConf).spec();
        } catch (UsageException e) {
            throw new IllegalArgumentException("attnspark " + command.cliName() + " UDF: " + e.getMessage(), e);
        }
    }
}
