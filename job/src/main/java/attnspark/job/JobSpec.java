package attnspark.job;

import static attnspark.job.JobOption.BOTH;
import static attnspark.job.JobOption.EMBED;
import static attnspark.job.JobOption.SCORE;
import static attnspark.job.JobOption.flag;
import static attnspark.job.JobOption.value;

import attnspark.api.ModelOptions;
import attnspark.api.ScoringMode;
import attnspark.attention.AttentionFunction;
import attnspark.attention.dispatch.AttentionInterface;
import attnspark.attention.hub.KernelName;
import attnspark.models.AttnImplementation;
import attnspark.udf.ModelSource;
import java.io.Serializable;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * One run of the embed or score job. Its options are declared once, in {@link #OPTIONS}; the
 * command line ({@code --name VALUE}), Spark confs ({@code spark.attnspark.name}) and the usage
 * text all come from that table (see {@link Settings} for the precedence: command line > Spark
 * conf > default). Serializable; {@link #model()} is the key of the executor's model replica.
 *
 * @param sparkConf       Spark properties given to the job itself ({@code --conf}, {@code --properties-file}),
 *                        other than {@code spark.attnspark.*}; the session is built with them
 * @param partition       {@code --partition}: write (and replace) only {@code OUTPUT/KEY=VALUE/}; null = the whole output
 * @param since           {@code --since}: backfill each {@code INPUT/date=D/} from this date on; null = no backfill
 * @param until           {@code --until}: last date of the backfill; null = the last date in the input
 * @param recordedOptions the effective value of each option that shapes the rows, by name, as
 *                        {@code _attnspark_run.json} records them (typed values are the fields above)
 * @param progressInterval seconds between progress lines on stderr; 0 = none
 * @param keepColumns     {@code --keep-columns}: input columns copied into the output rows, or
 *                        {@code [*]} for all but the id column; empty = none
 */
public record JobSpec(
        Command command,
        String input,
        String output,
        Format format,
        String idCol,
        String textCol,
        String master,
        boolean perToken,
        int window,
        int stride,
        int partitions,
        int chunkRows,
        ModelOptions model,
        boolean verbose,
        Map<String, String> sparkConf,
        OutputPartition partition,
        LocalDate since,
        LocalDate until,
        Map<String, String> recordedOptions,
        int progressInterval,
        List<String> keepColumns)
        implements Serializable {

    public enum Command {
        EMBED,
        SCORE;

        public String cliName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public enum Format {
        PARQUET,
        JSONL;

        public String cliName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static final int DEFAULT_CHUNK_ROWS = 512;

    /**
     * Every option of both commands, in usage order. To add one: declare it here (name, value
     * placeholder or flag, commands, help, default) with the builder field it sets; parsing,
     * {@code --help}, {@code --print-config} and {@code spark.attnspark.<name>} follow.
     */
    public static final List<JobOption> OPTIONS = List.of(
            value(
                            "input",
                            "PATH",
                            BOTH,
                            "JSON lines (.jsonl/.json), Parquet (.parquet) or CSV (.csv, header) file,"
                                    + " or a directory of them",
                            (b, v) -> b.input = v.string())
                    .requiredFor(BOTH)
                    .notRecorded(),
            value(
                            "output",
                            "DIR",
                            BOTH,
                            "output directory, replaced only once the new output is complete",
                            (b, v) -> b.output = v.string())
                    .requiredFor(BOTH)
                    .notRecorded(),
            value(
                            "partition",
                            "KEY=VALUE",
                            BOTH,
                            "write (and replace) only OUTPUT/KEY=VALUE/ of a Hive-style table,"
                                    + " e.g. date=2026-12-01",
                            (b, v) -> b.partition = v.partition())
                    .notRecorded(),
            value(
                            "since",
                            "DATE",
                            BOTH,
                            "backfill: each INPUT/date=YYYY-MM-DD/ from DATE on becomes OUTPUT/date=.../;"
                                    + " dates committed with the same input files, options and model are skipped",
                            (b, v) -> b.since = v.date())
                    .notRecorded(),
            value("until", "DATE", BOTH, "last date of a --since backfill", (b, v) -> b.until = v.date())
                    .dfltShown("the last date in the input")
                    .notRecorded(),
            value(
                            "model",
                            "DIR",
                            BOTH,
                            "model directory, Hadoop-FS URI of one (hdfs://, s3a://, abfs://, file://),"
                                    + " .tar.gz/.zip archive of one, or an --archives name",
                            (b, v) -> b.modelDir = v.string())
                    .dfltShown("bundled all-MiniLM-L6-v2")
                    .requiredFor(SCORE)
                    .scoreHelp(
                            "causal LM directory (Hugging Face layout), a Hadoop-FS URI or .tar.gz/.zip of one, or an --archives name"),
            value(
                            "model-cache",
                            "DIR",
                            BOTH,
                            "executors' local cache of models fetched from URIs and archives",
                            (b, v) -> b.sparkConf(ModelSource.CACHE_DIR_KEY, v.string()))
                    .dfltShown("java.io.tmpdir/attnspark-models-USER")
                    .notRecorded(),
            value(
                            "attn",
                            "NAME",
                            BOTH,
                            "attention implementation: eager, sdpa, flex_attention, paged|..., a kernel"
                                    + " org/repo[@rev][:function], or per sub-config key=name pairs (text_config=sdpa,=eager)",
                            (b, v) -> b.attn = v)
                    .dflt(ModelOptions.defaults().attn()),
            value(
                    "kernels-dir",
                    "DIR",
                    BOTH,
                    "directory of attention-kernel jars for org/repo names",
                    (b, v) -> b.kernelsDir = v.string()),
            flag(
                    "allow-all-kernels",
                    BOTH,
                    "load kernels outside the trusted kernels-community namespace",
                    (b, v) -> b.allowAllKernels = v.bool()),
            value(
                            "attention-chunk",
                            "N",
                            SCORE,
                            "full mode with chunked causal attention of N tokens: documents longer than"
                                    + " the model are scored whole when N <= its positions (RoPE), else refused",
                            (b, v) -> b.attentionChunk = v.intAtLeast(1))
                    .dfltShown("off"),
            value(
                            "mode",
                            "M",
                            SCORE,
                            "full (one forward, truncated at the model's length), hf-strided (--window W"
                                    + " --stride S: HF's perplexity-guide recipe) or lm-eval-rolling (--window L: lm-evaluation-harness"
                                    + " loglikelihood_rolling)",
                            (b, v) -> b.mode = ScoringMode.fromCliName(v.oneOf(Arrays.stream(ScoringMode.values())
                                    .map(ScoringMode::cliName)
                                    .toList())))
                    .dfltShown("full; hf-strided when --window/--stride are given"),
            value(
                            "window",
                            "W",
                            SCORE,
                            "tokens per forward of --mode hf-strided (needs --stride) or lm-eval-rolling",
                            (b, v) -> b.window = v.intAtLeast(1))
                    .dfltShown("off"),
            value(
                            "stride",
                            "S",
                            SCORE,
                            "how far the hf-strided --window moves (tokens scored per window)",
                            (b, v) -> b.stride = v.intAtLeast(1))
                    .dfltShown("off"),
            flag("per-token", SCORE, "also write token_ids and token_logprobs", (b, v) -> b.perToken = v.bool()),
            value(
                            "format",
                            "F",
                            BOTH,
                            "parquet or jsonl",
                            (b, v) -> b.format = switch (v.oneOf(List.of("parquet", "jsonl", "json"))) {
                                case "parquet" -> Format.PARQUET;
                                default -> Format.JSONL;
                            })
                    .dflt("parquet"),
            value("id-col", "NAME", BOTH, "id column", (b, v) -> b.idCol = v.string())
                    .dflt("id"),
            value(
                            "keep-columns",
                            "A,B|*",
                            BOTH,
                            "copy these input columns into the output rows (error rows too);"
                                    + " * = every input column but the id column",
                            (b, v) -> b.keepColumns = v.columnNames())
                    .dfltShown("none"),
            value("text-col", "NAME", BOTH, "text column", (b, v) -> b.textCol = v.string())
                    .dflt("text"),
            value(
                            "max-length",
                            "N",
                            BOTH,
                            "max tokens per text; 0 = the model's maximum",
                            (b, v) -> b.maxLength = v.intAtLeast(0))
                    .dflt("0")
                    .scoreHelp("max tokens per document; 0 = the model's maximum"),
            value(
                            "pooling",
                            "P",
                            EMBED,
                            "mean, cls or last",
                            (b, v) -> b.pooling = v.oneOf(List.of("mean", "cls", "last")))
                    .dfltShown("model's"),
            value("normalize", "B", EMBED, "true or false", (b, v) -> b.normalize = v.bool())
                    .dfltShown("model's"),
            value(
                            "batch-tokens",
                            "N",
                            BOTH,
                            "token budget of one forward batch",
                            (b, v) -> b.batchTokens = v.intAtLeast(1))
                    .dflt(String.valueOf(ModelOptions.defaults().batchTokens())),
            flag(
                    "bidirectional",
                    EMBED,
                    "embed with a decoder made bidirectional",
                    (b, v) -> b.bidirectional = v.bool()),
            value("master", "URL", BOTH, "Spark master", (b, v) -> b.master = v.string())
                    .dfltShown("local[*], or spark-submit's")
                    .notRecorded(),
            value(
                            "partitions",
                            "N",
                            BOTH,
                            "repartition the input into N partitions first",
                            (b, v) -> b.partitions = v.intAtLeast(1))
                    .dfltShown("the input's")
                    .notRecorded(),
            value("chunk-rows", "N", BOTH, "texts per model call", (b, v) -> b.chunkRows = v.intAtLeast(1))
                    .dflt(String.valueOf(DEFAULT_CHUNK_ROWS))
                    .notRecorded(),
            value(
                            "progress-interval",
                            "SECONDS",
                            BOTH,
                            "seconds between progress lines on stderr; 0 = none",
                            (b, v) -> b.progressInterval = v.intAtLeast(0))
                    .dflt("10")
                    .notRecorded(),
            flag(
                            "verbose",
                            BOTH,
                            "on failure, print the stack trace after the one-line message",
                            (b, v) -> b.verbose = v.bool())
                    .notRecorded(),
            // the three below steer Settings itself (where values come from, what to print), not the spec
            value(
                            "conf",
                            "KEY=VALUE",
                            BOTH,
                            "a Spark property (repeatable); spark.attnspark.<option> sets an option",
                            (b, v) -> {})
                    .commandLineOnly(),
            value(
                            "properties-file",
                            "FILE",
                            BOTH,
                            "Spark properties file (as spark-submit's), read like --conf",
                            (b, v) -> {})
                    .commandLineOnly(),
            flag("print-config", BOTH, "print the effective settings and where each came from, then exit", (b, v) -> {})
                    .commandLineOnly());

    /** The declaration of {@code --name}, or null. */
    public static JobOption option(String name) {
        for (JobOption o : OPTIONS) {
            if (o.name().equals(name)) {
                return o;
            }
        }
        return null;
    }

    /** {@code attnspark embed|score --help}, from {@link #OPTIONS}. */
    public static String usage(Command command) {
        StringBuilder u = new StringBuilder("usage: attnspark " + command.cliName());
        for (JobOption o : OPTIONS) {
            if (o.isRequired(command)) {
                u.append(' ').append(o.cliName()).append(' ').append(o.arg());
            }
        }
        u.append(" [options]\n");
        for (JobOption o : OPTIONS) {
            if (!o.appliesTo(command)) {
                continue;
            }
            String head = o.cliName() + (o.isFlag() ? "" : " " + o.arg());
            String shown =
                    o.isRequired(command) || o.isFlag() ? null : o.dfltShown() != null ? o.dfltShown() : o.dflt();
            String help = o.help(command)
                    + (o.isRequired(command) ? ", required" : "")
                    + (shown == null ? "" : " (default: " + shown + ")");
            u.append(wrap(String.format(Locale.ROOT, "  %-23s ", head), help));
        }
        u.append("Every option can also be set as spark.attnspark.<option> (--conf, --properties-file, spark-submit,\n"
                + "spark-defaults.conf); the command line wins over a Spark conf, a Spark conf over the default.\n");
        return u.toString();
    }

    private static String wrap(String head, String text) {
        int width = 112;
        String indent = " ".repeat(head.length());
        StringBuilder out = new StringBuilder(head);
        int col = head.length();
        for (String word : text.split(" ")) {
            if (col + word.length() > width && col > head.length()) {
                out.append('\n').append(indent);
                col = indent.length();
            } else if (col > head.length()) {
                out.append(' ');
                col++;
            }
            out.append(word);
            col += word.length();
        }
        return out.append('\n').toString();
    }

    /** Parses the arguments after the command name (no Spark conf around). Throws {@link UsageException} naming the bad option. */
    public static JobSpec parse(Command command, String... args) {
        return Settings.resolve(command, Arrays.asList(args), Settings.Environment.NONE)
                .spec();
    }

    /** --verbose: a failure prints its stack trace too (read before parsing, so it holds for any failure). */
    public static boolean verbose(String... args) {
        return Arrays.asList(args).contains("--verbose");
    }

    /** The same job on another input, writing {@code partition} (one date of a backfill). */
    public JobSpec forPartition(String input, OutputPartition partition) {
        return new JobSpec(
                command,
                input,
                output,
                format,
                idCol,
                textCol,
                master,
                perToken,
                window,
                stride,
                partitions,
                chunkRows,
                model,
                verbose,
                sparkConf,
                partition,
                null,
                null,
                recordedOptions,
                progressInterval,
                keepColumns);
    }

    /** A spec under construction: {@link #OPTIONS} write its fields; {@link #build} checks how they go together. */
    public static final class Builder {
        private final Command command;
        private String input;
        private String output;
        private String modelDir;
        private JobOption.Value attn;
        private String kernelsDir;
        private boolean allowAllKernels;
        private int attentionChunk;
        private ScoringMode mode; // null: not given (full, or hf-strided with --window/--stride)
        private int window;
        private int stride;
        private boolean perToken;
        private Format format;
        private String idCol;
        private String textCol;
        private int maxLength;
        private String pooling;
        private Boolean normalize;
        private int batchTokens;
        private boolean bidirectional;
        private String master;
        private int partitions;
        private int chunkRows;
        private boolean verbose;
        private OutputPartition partition;
        private LocalDate since;
        private LocalDate until;
        private int progressInterval;
        private List<String> keepColumns = List.of();
        private final Map<String, String> sparkConf = new LinkedHashMap<>();
        private final Map<String, String> recorded = new TreeMap<>();

        Builder(Command command) {
            this.command = command;
        }

        void sparkConf(String key, String value) {
            sparkConf.put(key, value);
        }

        void record(String option, String value) {
            recorded.put(option, value);
        }

        /**
         * The spec, after the checks that involve more than one option. {@code where} names an
         * option as the user set it ({@code option --window}, {@code spark.attnspark.window (from FILE)}).
         */
        JobSpec build(Function<String, String> where) {
            ModelOptions model = ModelOptions.defaults().withModelDir(modelDir);
            if (attn != null) {
                AttnImplementation parsed;
                try {
                    parsed = AttnImplementation.parse(attn.string()); // the key=name form fails here, not on executors
                } catch (IllegalArgumentException e) {
                    throw attn.error(e.getMessage());
                }
                for (String name : parsed.names()) checkAttn(command, name, attn.where());
                model = model.withAttn(attn.string());
            }
            model = model.withKernelsDir(kernelsDir)
                    .withAllowAllKernels(allowAllKernels)
                    .withMaxLength(maxLength)
                    .withBatchTokens(batchTokens);
            if (command == Command.EMBED) {
                model = model.withPooling(pooling).withNormalize(normalize).withBidirectional(bidirectional);
            } else {
                if (attentionChunk > 0 && (window > 0 || stride > 0)) {
                    throw new UsageException("use either " + where.apply("attention-chunk") + " or "
                            + where.apply(window > 0 ? "window" : "stride") + ", not both");
                }
                if (attentionChunk > 0 && mode != null && mode != ScoringMode.FULL) {
                    throw new UsageException(
                            "use either " + where.apply("attention-chunk") + " (full mode, whole documents)" + " or "
                                    + where.apply("mode") + " " + mode.cliName() + ", not both");
                }
                ScoringMode effective = mode;
                if (effective == null) {
                    // before --mode existed, --window/--stride meant HF's strided recipe; they still do
                    effective = window > 0 || stride > 0 ? ScoringMode.HF_STRIDED : ScoringMode.FULL;
                    if ((window > 0) != (stride > 0)) {
                        throw new UsageException(
                                window > 0
                                        ? where.apply("window") + " needs --stride"
                                                + " (or --mode lm-eval-rolling, which takes --window alone)"
                                        : where.apply("stride") + " needs --window");
                    }
                }
                String misfit = effective.misfit(window, stride);
                if (misfit != null) {
                    throw new UsageException(
                            (mode != null ? where.apply("mode") : where.apply("window")) + ": " + misfit);
                }
                model = model.withAttentionChunk(attentionChunk).withScoring(effective, window, stride);
            }
            if (until != null && since == null) {
                throw new UsageException(where.apply("until") + " needs --since");
            }
            if (since != null && until != null && until.isBefore(since)) {
                throw new UsageException(where.apply("until") + " (" + until + ") is before --since (" + since + ")");
            }
            if (since != null && partition != null) {
                throw new UsageException("use either " + where.apply("partition") + " or " + where.apply("since")
                        + " (which writes one date=... partition per input date), not both");
            }
            return new JobSpec(
                    command,
                    input,
                    output,
                    format,
                    idCol,
                    textCol,
                    master,
                    perToken,
                    window,
                    stride,
                    partitions,
                    chunkRows,
                    model,
                    verbose,
                    Collections.unmodifiableMap(new LinkedHashMap<>(sparkConf)),
                    partition,
                    since,
                    until,
                    Collections.unmodifiableMap(new TreeMap<>(recorded)),
                    progressInterval,
                    keepColumns);
        }
    }

    /**
     * Fails on the driver, before Spark starts, for a name no executor could resolve. Kernel
     * names ({@code org/repo...}) are resolved where the model loads, so they pass here.
     */
    static String checkAttn(Command command, String name) {
        return checkAttn(command, name, "option --attn");
    }

    private static String checkAttn(Command command, String name, String where) {
        AttentionInterface.Split split = AttentionInterface.split(name);
        if (!KernelName.isKernel(split.base())) {
            AttentionFunction fn;
            try {
                fn = AttentionInterface.ALL.get(name);
            } catch (IllegalArgumentException e) {
                throw new UsageException(where + ": " + e.getMessage());
            }
            if (fn instanceof AttentionInterface.Unavailable u) {
                throw new UsageException(where + ": " + u.reason());
            }
        }
        if (command == Command.EMBED && split.paged()) {
            throw new UsageException(where + ": '" + name + "' reads keys/values from a paged KV cache, which only"
                    + " causal scoring has; embed with '" + split.base() + "' instead");
        }
        return name;
    }
}
