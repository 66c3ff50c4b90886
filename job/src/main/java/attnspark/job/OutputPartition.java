package attnspark.job;

import java.io.Serializable;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.regex.Pattern;

/**
 * One partition of a Hive-style output table, {@code --partition date=2026-12-01}: the rows go to
 * {@code OUTPUT/date=2026-12-01/}, and {@code spark.read.parquet(OUTPUT)} shows a {@code date} column.
 * Values are restricted to characters Hive leaves unescaped in a directory name; a {@code date}
 * value must be an ISO date (so Spark infers a date column and dates sort as text).
 */
public record OutputPartition(String key, String value) implements Serializable {
    private static final Pattern KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern VALUE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

    /** Parses {@code KEY=VALUE}; the message of the exception says what is wrong (the caller adds which option). */
    public static OutputPartition parse(String text) {
        int eq = text.indexOf('=');
        if (eq <= 0 || eq == text.length() - 1) {
            throw new IllegalArgumentException("'" + text + "' is not KEY=VALUE (e.g. date=2026-12-01)");
        }
        String key = text.substring(0, eq);
        String value = text.substring(eq + 1);
        if (!KEY.matcher(key).matches()) {
            throw new IllegalArgumentException(
                    "partition column '" + key + "' must be letters, digits and _ (not starting with a digit)");
        }
        if (!VALUE.matcher(value).matches()) {
            throw new IllegalArgumentException(
                    "partition value '" + value + "' must be letters, digits, '.', '_' and '-'"
                            + " (starting with a letter or digit), so the directory name needs no escaping");
        }
        if (key.equals("date")) {
            try {
                LocalDate.parse(value);
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("date=" + value + " is not a date in the form YYYY-MM-DD");
            }
        }
        return new OutputPartition(key, value);
    }

    public static OutputPartition date(LocalDate date) {
        return new OutputPartition("date", date.toString());
    }

    /** The directory name, {@code date=2026-12-01}. */
    public String dirName() {
        return key + "=" + value;
    }

    @Override
    public String toString() {
        return dirName();
    }
}
