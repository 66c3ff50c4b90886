package attnspark.api;

import java.util.List;

/** Causal-LM scoring of documents. Thread-safe: one instance serves a whole executor. */
public interface TextScorer extends AutoCloseable {
    /**
     * Same order and size as {@code texts}; texts must be non-null. Each result carries its text's
     * {@link TextStats} ({@link ScoreResult#withText}), for the n_bytes / n_words / bits_per_byte columns.
     */
    List<ScoreResult> score(List<String> texts, boolean perToken);

    @Override
    default void close() {}
}
