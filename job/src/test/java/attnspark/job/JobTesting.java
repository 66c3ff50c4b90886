package attnspark.job;

import attnspark.job.JobSpec.Command;
import attnspark.udf.LocalSpark;
import attnspark.udf.ModelReplicas;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/** What the job tests share: a loopback-only local Spark session, job command lines and vector comparison. */
final class JobTesting {
    private JobTesting() {}

    static SparkSession localSpark(String appName) {
        return LocalSpark.start(appName);
    }

    /** A session whose executors load the real models (the replica factory back to Models). */
    static SparkSession realModelSpark(SparkSession.Builder session) {
        ModelReplicas.setFactoryForTests(null);
        return session.getOrCreate();
    }

    static SparkSession realModelSpark(String appName) {
        return realModelSpark(LocalSpark.builder(appName));
    }

    /** Stops a {@link #realModelSpark} session (null: it never started) and closes the replicas it loaded. */
    static void stopRealModelSpark(SparkSession spark) {
        if (spark != null) spark.stop();
        ModelReplicas.closeAll();
    }

    /** {@code embed --input INPUT --output OUTPUT OPTIONS...}, parsed as the CLI parses it. */
    static JobSpec embedSpec(String input, String output, String... options) {
        return parse(Command.EMBED, List.of("--input", input, "--output", output), options);
    }

    /** {@code score --input INPUT --output OUTPUT --model MODEL OPTIONS...}, parsed as the CLI parses it. */
    static JobSpec scoreSpec(String input, String output, String model, String... options) {
        return parse(Command.SCORE, List.of("--input", input, "--output", output, "--model", model), options);
    }

    private static JobSpec parse(Command command, List<String> required, String... options) {
        List<String> args = new ArrayList<>(required);
        args.addAll(List.of(options));
        return JobSpec.parse(command, args.toArray(String[]::new));
    }

    /**
     * ../shared (given as -Dattnspark.shared by the build), with the stories260K model in it. Missing,
     * it fails the test naming where it looked; it never skips.
     */
    static Path sharedDir() {
        String s = System.getProperty("attnspark.shared");
        if (s == null) {
            throw new IllegalStateException(
                    "-Dattnspark.shared is not set: run the tests through Maven (the root pom sets it"
                            + " to <root>/../shared) or pass -Dattnspark.shared=DIR");
        }
        Path model = Path.of(s, "models", "stories260k", "model.safetensors");
        if (!Files.isRegularFile(model)) {
            throw new IllegalStateException(
                    "shared test fixture missing: " + model.toAbsolutePath().normalize() + " (-Dattnspark.shared=" + s
                            + "). Put the shared data beside the repository as ../shared.");
        }
        return Path.of(s);
    }

    /** The shared stories260K model directory (the score tests' real model). */
    static Path stories260k() {
        return sharedDir().resolve("models/stories260k");
    }

    static double cos(List<Float> a, List<Float> b) {
        double d = 0, na = 0, nb = 0;
        for (int i = 0; i < a.size(); i++) {
            d += a.get(i) * b.get(i);
            na += a.get(i) * a.get(i);
            nb += b.get(i) * b.get(i);
        }
        return d / Math.sqrt(na * nb);
    }
}
