package attnspark.job;

import attnspark.job.JobSpec.Command;
import attnspark.udf.LocalSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.SparkSession;

/**
 * scripts/bench-threads: the embed job (bundled MiniLM) on local[2] with 2 input partitions,
 * as 1 task x 2 threads (spark.task.cpus=2) and as 2 tasks x 1 thread (spark.task.cpus=1),
 * alternating in one JVM after a warm-up (the replica is loaded once); prints each run's
 * tokens/s, the medians and their ratio. Not a test: wall-clock numbers belong here.
 * Arguments: INPUT.jsonl [reps=3].
 */
public final class TaskThreadsBench {
    private TaskThreadsBench() {}

    static double run(String input, Path out, int taskCpus) {
        SparkSession spark = LocalSpark.builder("bench-threads")
                .config("spark.task.cpus", String.valueOf(taskCpus))
                .getOrCreate();
        try {
            JobSummary s = JobRunner.run(
                    spark,
                    JobSpec.parse(Command.EMBED, "--input", input, "--output", out.toString(), "--partitions", "2"));
            return s.tokens() / s.seconds();
        } finally {
            spark.stop();
        }
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    public static void main(String[] args) throws Exception {
        String input = args[0];
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        Path out = Files.createTempDirectory("bench-threads");
        System.out.printf(Locale.ROOT, "warm-up: %.0f tokens/s%n", run(input, out.resolve("warm"), 1));
        Map<Integer, List<Double>> rates = new TreeMap<>();
        for (int r = 0; r < reps; r++) {
            for (int cpus : r % 2 == 0 ? new int[] {2, 1} : new int[] {1, 2}) {
                double t = run(input, out.resolve("r" + r + "-" + cpus), cpus);
                rates.computeIfAbsent(cpus, k -> new ArrayList<>()).add(t);
                System.out.printf(
                        Locale.ROOT,
                        "rep %d: %s %.0f tokens/s%n",
                        r,
                        cpus == 2 ? "1 task x 2 threads" : "2 tasks x 1 thread",
                        t);
            }
        }
        double two = median(rates.get(2)), one = median(rates.get(1));
        System.out.printf(
                Locale.ROOT,
                "median: 1 task x 2 threads %.0f tokens/s, 2 tasks x 1 thread %.0f tokens/s,"
                        + " ratio (2 tasks x 1 / 1 task x 2) %.2f%n",
                two,
                one,
                one / two);
    }
}
