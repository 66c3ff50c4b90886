package attnspark.job;

/**
 * spark-submit main of the score job:
 * {@code spark-submit --class attnspark.job.ScoreJob attnspark-job-*-spark.jar --input PATH --output DIR --model DIR ...}
 * (arguments as after {@code attnspark score}; see {@link JobSpec}).
 */
public final class ScoreJob {
    private ScoreJob() {}

    public static void main(String[] args) {
        JobRunner.mainAndExit(JobSpec.Command.SCORE, args);
    }
}
