package attnspark.udf;

import attnspark.api.EmbeddingResult;
import attnspark.api.ModelOptions;
import attnspark.api.ScoreResult;
import attnspark.api.TextEmbedder;
import attnspark.api.TextScorer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Deterministic stand-ins for the real models, to test the Spark row plumbing only (not the
 * models): a "token" is a whitespace-separated word; any batch containing "POISON" throws, as a
 * real model might on one bad document, so callers must retry row by row.
 */
public final class FakeModels implements ReplicaFactory {
    public static final AtomicInteger LOADS = new AtomicInteger();
    public static final int DIM = 4;

    static int words(String t) {
        String s = t.strip();
        return s.isEmpty() ? 0 : s.split("\\s+").length;
    }

    static void poisonCheck(List<String> texts) {
        for (String t : texts) {
            if (t.contains("POISON")) {
                throw new IllegalArgumentException("poisoned text");
            }
        }
    }

    @Override
    public TextEmbedder embedder(ModelOptions options) {
        LOADS.incrementAndGet();
        return new TextEmbedder() {
            @Override
            public int dimension() {
                return DIM;
            }

            @Override
            public List<EmbeddingResult> embed(List<String> texts) {
                poisonCheck(texts);
                List<EmbeddingResult> out = new ArrayList<>();
                for (String t : texts) {
                    int n = words(t) + 2; // [CLS] ... [SEP]
                    int max = options.maxLength() > 0 ? options.maxLength() : 256;
                    out.add(new EmbeddingResult(
                            new float[] {t.length(), words(t), 1f, -1f}, Math.min(n, max), n > max));
                }
                return out;
            }
        };
    }

    /**
     * These fakes, with {@code beforeEmbed} called on every embed call's texts first (inside the
     * task that makes the call): tests slow the calls down, or record what the model saw.
     */
    public static ReplicaFactory watchingEmbeds(Consumer<List<String>> beforeEmbed) {
        FakeModels fake = new FakeModels();
        return new ReplicaFactory() {
            @Override
            public TextEmbedder embedder(ModelOptions o) {
                TextEmbedder inner = fake.embedder(o);
                return new TextEmbedder() {
                    @Override
                    public int dimension() {
                        return inner.dimension();
                    }

                    @Override
                    public List<EmbeddingResult> embed(List<String> texts) {
                        beforeEmbed.accept(texts);
                        return inner.embed(texts);
                    }
                };
            }

            @Override
            public TextScorer scorer(ModelOptions o) {
                return fake.scorer(o);
            }
        };
    }

    @Override
    public TextScorer scorer(ModelOptions options) {
        LOADS.incrementAndGet();
        return (texts, perToken) -> {
            poisonCheck(texts);
            List<ScoreResult> out = new ArrayList<>();
            for (String t : texts) {
                int n = words(t);
                int[] ids = null;
                float[] lps = null;
                if (perToken) {
                    ids = new int[n + 1];
                    lps = new float[n];
                    ids[0] = 1; // BOS
                    for (int i = 0; i < n; i++) {
                        ids[i + 1] = 3 + i;
                        lps[i] = -1.5f;
                    }
                }
                out.add(new ScoreResult(n, 1.5 * n, n == 0 ? Double.NaN : Math.exp(1.5), ids, lps, false).withText(t));
            }
            return out;
        };
    }
}
