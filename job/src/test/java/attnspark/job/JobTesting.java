package attnspark.job;

import attnspark.udf.LocalSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/** What the job tests share: a loopback-only local Spark session and vector comparison. */
final class JobTesting {
    private JobTesting() {}

    static SparkSession localSpark(String appName) {
        return LocalSpark.start(appName);
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
