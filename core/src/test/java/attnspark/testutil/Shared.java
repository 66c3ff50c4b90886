package attnspark.testutil;

import attnspark.models.SequenceBatch;
import attnspark.models.llama.LlamaModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * ../shared (read-only, never copied into the repo): CI has it beside the clone. A missing
 * directory or file fails the test (never skips it), naming what is missing and where it looked.
 */
public final class Shared {
    private Shared() {}

    /** The build passes -Dattnspark.shared=&lt;root&gt;/../shared; an IDE run from a module falls back to ../../shared. */
    public static Path dir() {
        String prop = System.getProperty("attnspark.shared");
        Path p = Path.of(prop != null ? prop : "../../shared");
        if (!Files.isDirectory(p)) {
            throw new IllegalStateException(
                    "shared test data not found: no directory "
                            + p.toAbsolutePath().normalize()
                            + (prop != null
                                    ? " (-Dattnspark.shared=" + prop
                                            + ", set by the root pom from the folder holding .mvn/)"
                                    : " (no -Dattnspark.shared; default ../../shared)")
                            + ". Clone or copy the shared data beside the repository as ../shared, or pass -Dattnspark.shared=DIR.");
        }
        return p;
    }

    /** {@code dir()/relative}, which must exist (file or directory). */
    public static Path require(String relative) {
        Path p = dir().resolve(relative);
        if (!Files.exists(p)) {
            throw new IllegalStateException("shared test fixture missing: "
                    + p.toAbsolutePath().normalize() + " does not exist (the shared directory "
                    + dir().toAbsolutePath().normalize() + " is there)");
        }
        return p;
    }

    public static Path stories260k() {
        Path p = require("models/stories260k");
        require("models/stories260k/model.safetensors");
        require("models/stories260k/config.json");
        return p;
    }

    /** log_softmax of every row's logits (T, V) of one forward, in double: the test-side reference. */
    public static float[] logSoftmaxRows(LlamaModel m, SequenceBatch batch) {
        float[] logits = m.logits(m.forward(batch, Map.of()), batch.totalTokens);
        int V = m.vocabSize();
        for (int t = 0; t < batch.totalTokens; t++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int i = 0; i < V; i++) max = Math.max(max, logits[t * V + i]);
            for (int i = 0; i < V; i++) sum += Math.exp(logits[t * V + i] - max);
            double lse = max + Math.log(sum);
            for (int i = 0; i < V; i++) logits[t * V + i] = (float) (logits[t * V + i] - lse);
        }
        return logits;
    }
}
