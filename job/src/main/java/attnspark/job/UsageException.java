package attnspark.job;

/** Bad command line: the message names the option; the CLI prints it with the usage and exits 2. */
public class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final boolean helpRequested;

    public UsageException(String message) {
        this(message, false);
    }

    UsageException(String message, boolean helpRequested) {
        super(message);
        this.helpRequested = helpRequested;
    }

    /** True for --help / -h: print the usage to stdout and exit 0. */
    public boolean helpRequested() {
        return helpRequested;
    }
}
