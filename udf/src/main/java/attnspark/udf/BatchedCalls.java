package attnspark.udf;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Calls a batch model function over many texts; when the whole batch call throws (or answers
 * the wrong number of results) it retries text by text, so only the texts that fail on their
 * own get an error and every input gets exactly one {@link Outcome}.
 */
public final class BatchedCalls {
    /** Longest error message kept in an output row. */
    public static final int MAX_ERROR_CHARS = 1000;

    private BatchedCalls() {}

    public static <R> List<Outcome<R>> run(List<String> texts, Function<List<String>, List<R>> batchFn) {
        List<Outcome<R>> out = new ArrayList<>(texts.size());
        if (texts.isEmpty()) {
            return out;
        }
        try {
            List<R> results = checked(batchFn.apply(texts), texts.size());
            for (R r : results) {
                out.add(Outcome.ok(r));
            }
            return out;
        } catch (Exception | OutOfMemoryError batchFailure) {
            // a batch that runs out of memory is retried text by text, which needs far less;
            // a single text that still does becomes that row's error (the allocation that failed
            // is gone, so the executor carries on) instead of Spark ending the JVM
            if (texts.size() == 1) {
                out.add(Outcome.failed(describe(batchFailure)));
                return out;
            }
        }
        for (String text : texts) {
            try {
                out.add(Outcome.ok(checked(batchFn.apply(List.of(text)), 1).get(0)));
            } catch (Exception | OutOfMemoryError e) {
                out.add(Outcome.failed(describe(e)));
            }
        }
        return out;
    }

    private static <R> List<R> checked(List<R> results, int expected) {
        if (results == null || results.size() != expected) {
            throw new IllegalStateException("model returned " + (results == null ? "null" : results.size() + " results")
                    + " for " + expected + " texts");
        }
        for (R r : results) {
            if (r == null) {
                throw new IllegalStateException("model returned a null result");
            }
        }
        return results;
    }

    /** "ExceptionClass: message" (+ cause), cut to {@link #MAX_ERROR_CHARS}. */
    public static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder(t.getClass().getSimpleName());
        if (t.getMessage() != null) {
            sb.append(": ").append(t.getMessage());
        }
        if (t instanceof OutOfMemoryError) {
            sb.append(
                    " while processing this text: lower --max-length or --batch-tokens, or give the executors more memory"
                            + " (spark.executor.memory; ATTNSPARK_JAVA_OPTS=-Xmx... for scripts/attnspark)");
        }
        Throwable cause = t.getCause();
        if (cause != null && cause != t) {
            sb.append(" (caused by ").append(cause.getClass().getSimpleName());
            if (cause.getMessage() != null) {
                sb.append(": ").append(cause.getMessage());
            }
            sb.append(')');
        }
        return truncate(sb.toString(), MAX_ERROR_CHARS);
    }

    public static String truncate(String s, int max) {
        if (s == null || s.length() <= max) {
            return s;
        }
        return s.substring(0, max) + "...";
    }
}
