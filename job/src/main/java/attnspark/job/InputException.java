package attnspark.job;

/** The input or model cannot be used (missing file, missing column, unknown format): fail fast, exit 2. */
public class InputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InputException(String message) {
        super(message);
    }
}
