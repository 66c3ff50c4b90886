package attnspark.testutil;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/** ../shared (read-only, never copied into the repo): CI has it beside the clone. */
public final class Shared {
    private Shared() {
    }

    public static Path dir() {
        Path p = Path.of(System.getProperty("attnspark.shared", "../../shared"));
        Assumptions.assumeTrue(Files.isDirectory(p), "shared dir not found at " + p.toAbsolutePath());
        return p;
    }

    public static Path stories260k() {
        return dir().resolve("models").resolve("stories260k");
    }

    /** log_softmax of every row's logits (T, V) of one forward, in double: the test-side reference. */
    public static float[] logSoftmaxRows(attnspark.models.llama.LlamaModel m, attnspark.models.SequenceBatch batch) {
        float[] logits = m.logits(m.forward(batch, java.util.Map.of()), batch.totalTokens);
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
