package attnspark.job;

/**
 * spark-submit main of the embed job:
 * {@code spark-submit --class attnspark.job.EmbedJob attnspark-job-*-spark.jar --input PATH --output DIR ...}
 * (arguments as after {@code attnspark embed}; see {@link JobSpec}).
 */
public final class EmbedJob {
    private EmbedJob() {}

    public static void main(String[] args) {
        JobRunner.mainAndExit(JobSpec.Command.EMBED, args);
    }
}
