package attnspark.job;

import attnspark.job.JobSpec.Command;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * One job option, declared once in {@link JobSpec#OPTIONS}: its name ({@code --name} on the
 * command line, {@code spark.attnspark.name} in a Spark conf), whether it takes a value, the
 * commands it applies to, its default and its help line. Parsing, the usage text,
 * {@code --print-config} and the Spark-conf settings all derive from these declarations.
 *
 * @param name      the option's name without dashes, e.g. {@code max-length}
 * @param arg       the value's placeholder in the usage ({@code N}, {@code PATH}); null for a flag
 * @param commands  the commands that take it
 * @param required  the commands that need it
 * @param dflt      the value used when neither the command line nor a Spark conf sets it; null = none
 * @param dfltShown how the usage describes the default when it is not {@link #dflt} itself; null = {@link #dflt}
 * @param help      one line (wrapped by the usage) saying what it does; per-command wording in {@link #scoreHelp}
 * @param scoreHelp the help line for {@code score} when it differs; null = {@link #help}
 * @param cliOnly   true for options that make no sense in a Spark conf ({@code --conf}, {@code --print-config});
 *                  declared with {@link #commandLineOnly()}
 * @param runOnly   true for options that do not shape the output rows (where, how fast, how verbose); the
 *                  others are recorded in the partition's {@code _attnspark_run.json} and decide whether
 *                  a backfill may skip a date; declared with {@link #notRecorded()}
 * @param apply     sets the option's value on the spec builder
 */
public record JobOption(
        String name,
        String arg,
        Set<Command> commands,
        Set<Command> required,
        String dflt,
        String dfltShown,
        String help,
        String scoreHelp,
        boolean cliOnly,
        boolean runOnly,
        Apply apply) {

    /** {@code --keep-columns *}: every input column. */
    public static final String ALL_COLUMNS = "*";

    /** Spark conf keys of job options start with this. */
    public static final String CONF_PREFIX = "spark.attnspark.";

    /** Writes a value (already known to come from {@code where}) into the builder, or throws {@link UsageException}. */
    @FunctionalInterface
    public interface Apply {
        void apply(JobSpec.Builder spec, Value value);
    }

    /** An option with a value ({@code --name ARG}). */
    static JobOption value(String name, String arg, Set<Command> commands, String help, Apply apply) {
        return new JobOption(name, arg, commands, Set.of(), null, null, help, null, false, false, apply);
    }

    /** A flag ({@code --name}; {@code spark.attnspark.name=true|false}); default false. */
    static JobOption flag(String name, Set<Command> commands, String help, Apply apply) {
        return new JobOption(name, null, commands, Set.of(), "false", null, help, null, false, false, apply);
    }

    static final Set<Command> BOTH = EnumSet.allOf(Command.class);
    static final Set<Command> EMBED = EnumSet.of(Command.EMBED);
    static final Set<Command> SCORE = EnumSet.of(Command.SCORE);

    /** Needed by {@code commands}: parsing fails without it and the usage puts it in the first line. */
    JobOption requiredFor(Set<Command> commands) {
        return new JobOption(
                name, arg, this.commands, commands, dflt, dfltShown, help, scoreHelp, cliOnly, runOnly, apply);
    }

    JobOption dflt(String value) {
        return new JobOption(name, arg, commands, required, value, dfltShown, help, scoreHelp, cliOnly, runOnly, apply);
    }

    /** The default as the usage shows it when no value is applied ("model's", "bundled all-MiniLM-L6-v2"). */
    JobOption dfltShown(String text) {
        return new JobOption(name, arg, commands, required, dflt, text, help, scoreHelp, cliOnly, runOnly, apply);
    }

    JobOption scoreHelp(String text) {
        return new JobOption(name, arg, commands, required, dflt, dfltShown, help, text, cliOnly, runOnly, apply);
    }

    JobOption commandLineOnly() {
        return new JobOption(name, arg, commands, required, dflt, dfltShown, help, scoreHelp, true, true, apply);
    }

    JobOption notRecorded() {
        return new JobOption(name, arg, commands, required, dflt, dfltShown, help, scoreHelp, cliOnly, true, apply);
    }

    public boolean isFlag() {
        return arg == null;
    }

    public String cliName() {
        return "--" + name;
    }

    public String confKey() {
        return CONF_PREFIX + name;
    }

    public boolean isRequired(Command command) {
        return required.contains(command);
    }

    public boolean appliesTo(Command command) {
        return commands.contains(command);
    }

    String help(Command command) {
        return command == Command.SCORE && scoreHelp != null ? scoreHelp : help;
    }

    /**
     * A value of one option and where it came from; its converters throw {@link UsageException}
     * naming the option as the user set it ({@code option --max-length} or
     * {@code spark.attnspark.max-length (from FILE)}).
     */
    public record Value(JobOption option, String text, String where) {

        public String string() {
            return text;
        }

        public int intAtLeast(int min) {
            int n;
            try {
                n = Integer.parseInt(text.trim());
            } catch (NumberFormatException e) {
                throw error("'" + text + "' is not a whole number");
            }
            if (n < min) {
                throw error(n + " is out of range (must be >= " + min + ")");
            }
            return n;
        }

        /** true/false; a flag on the command line is always true. */
        public boolean bool() {
            String v = text.trim().toLowerCase(Locale.ROOT);
            if (!v.equals("true") && !v.equals("false")) {
                throw error("'" + text + "' is not true or false");
            }
            return Boolean.parseBoolean(v);
        }

        /** One of {@code choices} (case-insensitive), returned in lower case. */
        public String oneOf(List<String> choices) {
            String v = text.trim().toLowerCase(Locale.ROOT);
            if (!choices.contains(v)) {
                throw error("'" + text + "' is not one of " + String.join(", ", choices));
            }
            return v;
        }

        /** Comma-separated column names, or {@code *} alone; blanks around names are dropped. */
        public List<String> columnNames() {
            List<String> names = new ArrayList<>();
            for (String part : text.split(",", -1)) {
                String name = part.strip();
                if (name.isEmpty()) {
                    throw error("'" + text + "' has an empty column name; give NAME,NAME,... or *");
                }
                if (names.contains(name)) {
                    throw error("column '" + name + "' is named twice");
                }
                names.add(name);
            }
            if (names.contains(ALL_COLUMNS) && names.size() > 1) {
                throw error("'" + text + "': * already means every column; give * alone or a list of names");
            }
            return List.copyOf(names);
        }

        /** An ISO date, YYYY-MM-DD. */
        public LocalDate date() {
            try {
                return LocalDate.parse(text.trim());
            } catch (DateTimeParseException e) {
                throw error("'" + text + "' is not a date in the form YYYY-MM-DD");
            }
        }

        /** {@code KEY=VALUE} of a Hive-style partition. */
        public OutputPartition partition() {
            try {
                return OutputPartition.parse(text.trim());
            } catch (IllegalArgumentException e) {
                throw error(e.getMessage());
            }
        }

        public UsageException error(String problem) {
            return new UsageException(where + ": " + problem);
        }
    }
}
