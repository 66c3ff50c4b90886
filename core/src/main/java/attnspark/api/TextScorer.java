package attnspark.api;

import java.util.List;

/** Causal-LM scoring of documents. Thread-safe: one instance serves a whole executor. */
public interface TextScorer extends AutoCloseable {
    /** Same order and size as {@code texts}; texts must be non-null. */
    List<ScoreResult> score(List<String> texts, boolean perToken);

    @Override
    default void close() {
    }
}
