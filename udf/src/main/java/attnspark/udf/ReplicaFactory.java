package attnspark.udf;

import attnspark.api.ModelOptions;
import attnspark.api.TextEmbedder;
import attnspark.api.TextScorer;

/**
 * Builds the model behind a replica. The default one calls {@link attnspark.load.Models};
 * tests install a fake with {@link ModelReplicas#setFactoryForTests(ReplicaFactory)} to test row
 * plumbing without a model (only meaningful where executors share the JVM, i.e. local mode).
 */
public interface ReplicaFactory {
    TextEmbedder embedder(ModelOptions options);

    TextScorer scorer(ModelOptions options);
}
