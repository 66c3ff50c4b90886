package attnspark.job;

import java.util.Locale;

/** What a run wrote, from reading the committed output back. */
public record JobSummary(
        String command,
        long rows,
        long errors,
        long tokens,
        double seconds,
        String output,
        String outputUri,
        String format) {

    /** {@code attnspark embed: rows=N errors=E tokens=T seconds=S tokens/s=R output=DIR}. */
    public String line() {
        double rate = seconds > 0 ? tokens / seconds : 0.0;
        return String.format(
                Locale.ROOT,
                "attnspark %s: rows=%d errors=%d tokens=%d seconds=%.2f tokens/s=%.1f output=%s",
                command,
                rows,
                errors,
                tokens,
                seconds,
                rate,
                output);
    }
}
