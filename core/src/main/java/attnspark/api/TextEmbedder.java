package attnspark.api;

import java.util.List;

/** Text in, one pooled vector per text out. Thread-safe: one instance serves a whole executor. */
public interface TextEmbedder extends AutoCloseable {
    int dimension();

    /** Same order and size as {@code texts}; texts must be non-null (the caller reports null rows). */
    List<EmbeddingResult> embed(List<String> texts);

    @Override
    default void close() {}
}
