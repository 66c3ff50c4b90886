package attnspark.udf;

/** A per-text result or the reason it failed (exactly one of the two is non-null). */
public record Outcome<R>(R value, String error) {
    public static <R> Outcome<R> ok(R value) {
        return new Outcome<>(value, null);
    }

    public static <R> Outcome<R> failed(String error) {
        return new Outcome<>(null, error);
    }

    public boolean isOk() {
        return error == null;
    }
}
