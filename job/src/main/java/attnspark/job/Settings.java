package attnspark.job;

import attnspark.checkpoint.CheckpointException;
import attnspark.job.JobSpec.Command;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The effective settings of one run: every option of {@link JobSpec#OPTIONS} from the command
 * line, else from a Spark conf key {@code spark.attnspark.<option>}, else its default. Spark
 * confs are read in spark-submit's order: {@code --conf} (on the job's command line), then
 * {@code --properties-file FILE}, then the JVM's {@code spark.*} system properties (how
 * spark-submit hands its {@code --conf}, {@code --properties-file} and {@code spark-defaults.conf}
 * to the driver), then, when not launched by spark-submit and without {@code --properties-file},
 * {@code $SPARK_CONF_DIR/spark-defaults.conf} (or {@code $SPARK_HOME/conf/}). An unknown
 * {@code spark.attnspark.*} key fails naming the key and the nearest option; a key of the other
 * command's options is ignored (one defaults file serves embed and score) and listed by
 * {@code --print-config}.
 */
public final class Settings {

    public enum Source {
        COMMAND_LINE,
        SPARK_CONF,
        DEFAULT;

        String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', ' ');
        }
    }

    /**
     * One option's effective value.
     *
     * @param where      how the user set it, for messages: {@code option --window},
     *                   {@code spark.attnspark.window (from --conf)}, {@code default}
     * @param overridden lower-precedence values it replaced, e.g. {@code spark.attnspark.window=256 (from FILE)}
     */
    public record Setting(JobOption option, String value, Source source, String where, List<String> overridden) {}

    /** What a run sees besides its arguments: the JVM's Spark system properties and the environment. */
    public record Environment(Map<String, String> systemProperties, Map<String, String> env) {
        /** Nothing: only the command line (and its --conf/--properties-file) counts; what tests and {@link JobSpec#parse} use. */
        public static final Environment NONE = new Environment(Map.of(), Map.of());

        public static Environment current() {
            Map<String, String> props = new TreeMap<>();
            for (String k : System.getProperties().stringPropertyNames()) {
                if (k.startsWith("spark.")) {
                    props.put(k, System.getProperty(k));
                }
            }
            return new Environment(props, System.getenv());
        }

        /** spark-submit puts the deploy mode among the driver's properties; then it has read spark-defaults.conf already. */
        boolean launchedBySparkSubmit() {
            return systemProperties.containsKey("spark.submit.deployMode");
        }
    }

    /** Spark properties from one place, in precedence order (first wins). */
    private record ConfLayer(String origin, Map<String, String> entries, boolean forSession) {}

    private final Command command;
    private final List<Setting> settings;
    private final List<String> ignored;
    private final Map<String, String> sessionConf;
    private final boolean printConfig;
    private final JobSpec spec;

    private Settings(
            Command command,
            List<Setting> settings,
            List<String> ignored,
            Map<String, String> sessionConf,
            boolean printConfig,
            JobSpec spec) {
        this.command = command;
        this.settings = settings;
        this.ignored = ignored;
        this.sessionConf = sessionConf;
        this.printConfig = printConfig;
        this.spec = spec;
    }

    public JobSpec spec() {
        return spec;
    }

    public List<Setting> settings() {
        return settings;
    }

    public boolean printConfig() {
        return printConfig;
    }

    /** Resolves {@code args} (after the command name) against the Spark confs of {@code environment}. */
    public static Settings resolve(Command command, List<String> args, Environment environment) {
        return resolve(command, args, environment, null);
    }

    /**
     * The settings a SQL UDF or ML stage of {@code command} runs with: the {@code spark.attnspark.*}
     * entries of a SparkSession's conf, parsed and checked as the CLI does (unknown keys fail
     * naming the key); no command line, and no {@code --input}/{@code --output}, which a UDF has not.
     */
    public static Settings fromSessionConf(Command command, Map<String, String> liveConf) {
        return resolve(command, List.of(), Environment.NONE, liveConf);
    }

    /** {@code liveConf} non-null: the conf of a live session (a UDF's), which needs none of the job's where-to options. */
    private static Settings resolve(
            Command command, List<String> args, Environment environment, Map<String, String> liveConf) {
        Map<JobOption, String> cli = new LinkedHashMap<>();
        List<String> confArgs = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("-h") || a.equals("--help")) {
                throw new UsageException(JobSpec.usage(command), true);
            }
            if (!a.startsWith("--")) {
                throw new UsageException("unexpected argument '" + a + "' (options start with --)");
            }
            String name = a.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq > 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            JobOption o = JobSpec.option(name);
            if (o == null || !o.appliesTo(command)) {
                throw new UsageException("unknown option '--" + name + "' for 'attnspark " + command.cliName() + "'"
                        + hint(command, name, "--"));
            }
            if (o.isFlag()) {
                if (value != null) {
                    throw new UsageException("option " + o.cliName() + " takes no value");
                }
                value = "true";
            } else if (value == null) {
                if (i + 1 >= args.size() || args.get(i + 1).startsWith("--")) {
                    throw new UsageException("option " + o.cliName() + " needs a value");
                }
                value = args.get(++i);
            }
            if (value.isEmpty()) {
                throw new UsageException("option " + o.cliName() + " needs a value");
            }
            if (o.name().equals("conf")) {
                confArgs.add(value);
            } else if (cli.put(o, value) != null) {
                throw new UsageException("option " + o.cliName() + " given more than once");
            }
        }

        List<ConfLayer> layers = new ArrayList<>();
        if (liveConf != null) {
            layers.add(new ConfLayer("the SparkSession conf", liveConf, false));
        }
        layers.add(new ConfLayer("--conf", confPairs(confArgs), true));
        String propertiesFile = cli.get(JobSpec.option("properties-file"));
        if (propertiesFile != null) {
            layers.add(new ConfLayer(
                    "--properties-file " + propertiesFile,
                    readProperties(Path.of(propertiesFile), "option --properties-file"),
                    true));
        }
        layers.add(new ConfLayer("the JVM's Spark conf (spark-submit or -D)", environment.systemProperties(), false));
        if (propertiesFile == null && !environment.launchedBySparkSubmit()) {
            Path defaults = sparkDefaults(environment.env());
            if (defaults != null) {
                layers.add(new ConfLayer(defaults.toString(), readProperties(defaults, "spark-defaults.conf"), true));
            }
        }

        // spark.attnspark.* keys -> options (highest layer first); other keys -> the session
        Map<JobOption, Setting> fromConf = new LinkedHashMap<>();
        List<String> ignored = new ArrayList<>();
        Map<String, String> forSession = new LinkedHashMap<>();
        for (ConfLayer layer : layers) {
            for (Map.Entry<String, String> e : layer.entries().entrySet()) {
                String key = e.getKey();
                String where = key + " (from " + layer.origin() + ")";
                if (!key.startsWith(JobOption.CONF_PREFIX)) {
                    if (layer.forSession()) {
                        forSession.putIfAbsent(key, e.getValue());
                    }
                    continue;
                }
                String name = key.substring(JobOption.CONF_PREFIX.length());
                JobOption o = JobSpec.option(name);
                if (o == null) {
                    throw new UsageException("unknown setting " + where + hint(command, name, JobOption.CONF_PREFIX));
                }
                if (o.cliOnly()) {
                    throw new UsageException(
                            "setting " + where + ": " + o.cliName() + " is a command-line option only; remove the key");
                }
                if (!o.appliesTo(command)) {
                    ignored.add(where + ": an option of 'attnspark "
                            + other(command).cliName() + "'");
                    continue;
                }
                if (e.getValue().isBlank()) {
                    throw new UsageException("setting " + where + " needs a value");
                }
                Setting first = fromConf.get(o);
                if (first == null) {
                    fromConf.put(o, new Setting(o, e.getValue().strip(), Source.SPARK_CONF, where, new ArrayList<>()));
                } else if (!first.value().equals(e.getValue().strip())) {
                    first.overridden().add(key + "=" + e.getValue().strip() + " (from " + layer.origin() + ")");
                }
            }
        }

        JobSpec.Builder builder = new JobSpec.Builder(command);
        List<Setting> effective = new ArrayList<>();
        for (JobOption o : JobSpec.OPTIONS) {
            if (!o.appliesTo(command) || o.cliOnly()) {
                continue;
            }
            Setting conf = fromConf.get(o);
            Setting s;
            if (cli.containsKey(o)) {
                List<String> over = new ArrayList<>();
                if (conf != null) {
                    over.add(o.confKey() + "=" + conf.value()
                            + conf.where().substring(o.confKey().length()));
                    over.addAll(conf.overridden());
                }
                s = new Setting(o, cli.get(o), Source.COMMAND_LINE, "option " + o.cliName(), over);
            } else if (conf != null) {
                s = conf;
            } else if (o.dflt() != null) {
                s = new Setting(o, o.dflt(), Source.DEFAULT, "the default of " + o.cliName(), List.of());
            } else if (o.isRequired(command) && !(liveConf != null && o.runOnly())) {
                throw new UsageException("missing required option " + o.cliName() + " (" + o.help(command) + "; or set "
                        + o.confKey() + ")");
            } else {
                continue;
            }
            o.apply().apply(builder, new JobOption.Value(o, s.value(), s.where()));
            if (!o.runOnly()) {
                builder.record(o.name(), s.value());
            }
            effective.add(s);
        }
        forSession.forEach(builder::sparkConf);
        Map<String, String> where = new LinkedHashMap<>();
        for (Setting s : effective) {
            where.put(s.option().name(), s.where());
        }
        JobSpec spec = builder.build(name -> where.getOrDefault(name, "option --" + name));
        return new Settings(
                command,
                List.copyOf(effective),
                List.copyOf(ignored),
                forSession,
                cli.containsKey(JobSpec.option("print-config")),
                spec);
    }

    /** {@code --print-config}: each option's effective value and where it came from. */
    public String describe() {
        StringBuilder out = new StringBuilder(
                "attnspark " + command.cliName() + ": effective settings (command line > Spark conf > default)\n");
        for (JobOption o : JobSpec.OPTIONS) {
            if (!o.appliesTo(command) || o.cliOnly()) {
                continue;
            }
            Setting s =
                    settings.stream().filter(x -> x.option() == o).findFirst().orElse(null);
            String value = s != null ? s.value() : "(" + (o.dfltShown() != null ? o.dfltShown() : "not set") + ")";
            String from = s == null
                    ? "default"
                    : s.source() == Source.SPARK_CONF ? s.where() : s.source().label();
            out.append(String.format(Locale.ROOT, "  %-18s %-30s %s%n", o.name(), value, from));
            if (s != null) {
                for (String over : s.overridden()) {
                    out.append(String.format(Locale.ROOT, "  %-18s %-30s overrides %s%n", "", "", over));
                }
            }
        }
        sessionConf.forEach((k, v) ->
                out.append("  Spark property ").append(k).append('=').append(v).append('\n'));
        for (String i : ignored) {
            out.append("  ignored ").append(i).append('\n');
        }
        return out.toString();
    }

    private static Command other(Command command) {
        return command == Command.EMBED ? Command.SCORE : Command.EMBED;
    }

    /** " (it is an option of 'attnspark score')", else "; the nearest option is --window". */
    private static String hint(Command command, String name, String prefix) {
        JobOption o = JobSpec.option(name);
        if (o != null && o.appliesTo(other(command))) {
            return " (it is an option of 'attnspark " + other(command).cliName() + "')";
        }
        List<String> names = JobSpec.OPTIONS.stream()
                .filter(x -> x.appliesTo(command) && !(prefix.equals(JobOption.CONF_PREFIX) && x.cliOnly()))
                .map(JobOption::name)
                .toList();
        List<String> near =
                CheckpointException.nearest(name.toLowerCase(Locale.ROOT).replace('_', '-'), names, 1);
        return near.isEmpty()
                ? ""
                : "; the nearest " + (prefix.equals("--") ? "option" : "key") + " is " + prefix + near.get(0);
    }

    private static Map<String, String> confPairs(List<String> pairs) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String p : pairs) {
            int eq = p.indexOf('=');
            if (eq <= 0) {
                throw new UsageException("option --conf: '" + p + "' is not KEY=VALUE");
            }
            String key = p.substring(0, eq).strip();
            String value = p.substring(eq + 1);
            String before = out.put(key, value);
            if (before != null && !before.equals(value)) {
                throw new UsageException("option --conf: " + key + " given twice with different values ('" + before
                        + "' and '" + value + "'); keep one");
            }
        }
        return out;
    }

    /** A Spark properties file, read as spark-submit reads it (java.util.Properties, values trimmed). */
    private static Map<String, String> readProperties(Path file, String what) {
        if (!Files.isRegularFile(file)) {
            throw new UsageException(what + ": " + file + " is not a readable file");
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException | IllegalArgumentException e) {
            throw new UsageException(what + ": cannot read " + file + ": " + e.getMessage());
        }
        Map<String, String> out = new TreeMap<>();
        for (String k : p.stringPropertyNames()) {
            out.put(k.strip(), p.getProperty(k).strip());
        }
        return out;
    }

    private static Path sparkDefaults(Map<String, String> env) {
        String dir = env.get("SPARK_CONF_DIR");
        if (dir == null && env.get("SPARK_HOME") != null) {
            dir = env.get("SPARK_HOME") + "/conf";
        }
        if (dir == null) {
            return null;
        }
        Path f = Path.of(dir, "spark-defaults.conf");
        return Files.isRegularFile(f) ? f : null;
    }
}
