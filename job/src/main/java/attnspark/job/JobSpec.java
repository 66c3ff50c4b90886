package attnspark.job;

import attnspark.api.ModelOptions;
import attnspark.attention.AttentionFunction;
import attnspark.attention.AttentionInterface;
import attnspark.attention.hub.KernelName;
import attnspark.models.AttnImplementation;

import java.io.Serializable;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One run of the embed or score job, parsed from the CLI contract (design.md):
 * <pre>
 * embed --input PATH --output DIR [--model DIR] [--attn NAME] [--format parquet|jsonl]
 *       [--id-col id] [--text-col text] [--max-length N] [--pooling mean|cls|last]
 *       [--normalize true|false] [--batch-tokens N] [--master URL] [--bidirectional]
 * score --input PATH --output DIR --model DIR [--attn NAME]
 *       [--attention-chunk N | --window W --stride S] [--per-token] [--format ...] [--max-length N]
 * </pre>
 * Both take {@code --kernels-dir DIR} and {@code --allow-all-kernels} for hub kernel names
 * ({@code --attn kernels-community/flash-attn2}).
 * Both also take {@code --partitions N} (repartition the input first) and
 * {@code --chunk-rows N} (texts per model call). Serializable; {@link #model()} is the key of
 * the executor's model replica.
 */
public record JobSpec(Command command, String input, String output, Format format, String idCol, String textCol,
                      String master, boolean perToken, int window, int stride, int partitions, int chunkRows,
                      ModelOptions model) implements Serializable {

    public enum Command {
        EMBED, SCORE;

        public String cliName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public enum Format {
        PARQUET, JSONL;

        public String cliName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static final int DEFAULT_CHUNK_ROWS = 512;

    private static final Set<String> COMMON = Set.of("--input", "--output", "--model", "--attn", "--format",
            "--id-col", "--text-col", "--max-length", "--batch-tokens", "--master", "--partitions", "--chunk-rows",
            "--kernels-dir", "--allow-all-kernels", "--verbose");
    private static final Set<String> EMBED_ONLY = Set.of("--pooling", "--normalize", "--bidirectional");
    private static final Set<String> SCORE_ONLY = Set.of("--attention-chunk", "--window", "--stride", "--per-token");
    private static final Set<String> FLAGS = Set.of("--bidirectional", "--per-token", "--allow-all-kernels", "--verbose");

    public static String usage(Command command) {
        if (command == Command.EMBED) {
            return """
                    usage: attnspark embed --input PATH --output DIR [options]
                      --input PATH          JSON lines (.jsonl/.json), Parquet (.parquet) or CSV (.csv, header) file,
                                            or a directory of them
                      --output DIR          output directory (replaced)
                      --model DIR           model directory (default: bundled all-MiniLM-L6-v2)
                      --attn NAME           attention implementation (default sdpa): eager, sdpa, flex_attention,
                                            paged|..., a kernel org/repo[@rev][:function], or per
                                            sub-config key=name pairs (text_config=sdpa,=eager)
                      --kernels-dir DIR     directory of attention-kernel jars for org/repo names
                      --allow-all-kernels   load kernels outside the trusted kernels-community namespace
                      --format F            parquet (default) or jsonl
                      --id-col NAME         id column (default id)
                      --text-col NAME       text column (default text)
                      --max-length N        max tokens per text, 0 = model default
                      --pooling P           mean, cls or last (default: model's)
                      --normalize B         true or false (default: model's)
                      --batch-tokens N      token budget of one forward batch (default 8192)
                      --bidirectional       embed with a decoder made bidirectional
                      --master URL          Spark master (default local[*], or spark-submit's)
                      --partitions N        repartition the input into N partitions first
                      --chunk-rows N        texts per model call (default 512)
                      --verbose             on failure, print the stack trace after the one-line message
                    """;
        }
        return """
                usage: attnspark score --input PATH --output DIR --model DIR [options]
                  --input PATH          JSON lines (.jsonl/.json), Parquet (.parquet) or CSV (.csv, header) file,
                                        or a directory of them
                  --output DIR          output directory (replaced)
                  --model DIR           causal LM directory (Hugging Face layout), required
                  --attn NAME           attention implementation (default sdpa): eager, sdpa, flex_attention,
                                        paged|..., a kernel org/repo[@rev][:function], or per
                                        sub-config key=name pairs (text_config=sdpa,=eager)
                  --kernels-dir DIR     directory of attention-kernel jars for org/repo names
                  --allow-all-kernels   load kernels outside the trusted kernels-community namespace
                  --attention-chunk N   chunked causal attention of N tokens (long documents)
                  --window W --stride S score long documents with a W-token context moving by S
                  --per-token           also write token_ids and token_logprobs
                  --format F            parquet (default) or jsonl
                  --id-col NAME         id column (default id)
                  --text-col NAME       text column (default text)
                  --max-length N        max tokens per document, 0 = model default
                  --batch-tokens N      token budget of one forward batch (default 8192)
                  --master URL          Spark master (default local[*], or spark-submit's)
                  --partitions N        repartition the input into N partitions first
                  --chunk-rows N        texts per model call (default 512)
                  --verbose             on failure, print the stack trace after the one-line message
                """;
    }

    /** Parses the arguments after the command name. Throws {@link UsageException} naming the bad option. */
    public static JobSpec parse(Command command, String... args) {
        Set<String> allowed = new java.util.HashSet<>(COMMON);
        allowed.addAll(command == Command.EMBED ? EMBED_ONLY : SCORE_ONLY);
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                throw new UsageException(usage(command), true);
            }
            if (!a.startsWith("--")) {
                throw new UsageException("unexpected argument '" + a + "' (options start with --)");
            }
            String name = a;
            String value = null;
            int eq = a.indexOf('=');
            if (eq > 0) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            if (!allowed.contains(name)) {
                String hint = (command == Command.EMBED ? SCORE_ONLY : EMBED_ONLY).contains(name)
                        ? " (it is an option of 'attnspark " + (command == Command.EMBED ? "score" : "embed") + "')" : "";
                throw new UsageException("unknown option '" + name + "' for 'attnspark " + command.cliName() + "'" + hint);
            }
            if (FLAGS.contains(name)) {
                if (value != null) {
                    throw new UsageException("option " + name + " takes no value");
                }
                value = "true";
            } else if (value == null) {
                if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
                    throw new UsageException("option " + name + " needs a value");
                }
                value = args[++i];
            }
            if (value.isEmpty()) {
                throw new UsageException("option " + name + " needs a value");
            }
            if (opts.put(name, value) != null) {
                throw new UsageException("option " + name + " given more than once");
            }
        }
        String input = required(opts, "--input");
        String output = required(opts, "--output");
        String modelDir = opts.get("--model");
        if (command == Command.SCORE && modelDir == null) {
            throw new UsageException("missing required option --model (score needs a causal LM directory)");
        }
        Format format = Format.PARQUET;
        if (opts.containsKey("--format")) {
            String f = opts.get("--format").toLowerCase(Locale.ROOT);
            format = switch (f) {
                case "parquet" -> Format.PARQUET;
                case "jsonl", "json" -> Format.JSONL;
                default -> throw new UsageException("option --format: '" + opts.get("--format")
                        + "' is not one of parquet, jsonl");
            };
        }
        ModelOptions model = ModelOptions.defaults().withModelDir(modelDir);
        if (opts.containsKey("--attn")) {
            AttnImplementation attn;
            try {
                attn = AttnImplementation.parse(opts.get("--attn"));   // the key=name form fails here, not on executors
            } catch (IllegalArgumentException e) {
                throw new UsageException("option --attn: " + e.getMessage());
            }
            for (String name : attn.names()) checkAttn(command, name);
            model = model.withAttn(opts.get("--attn"));
        }
        model = model.withKernelsDir(opts.get("--kernels-dir")).withAllowAllKernels(opts.containsKey("--allow-all-kernels"));
        model = model.withMaxLength(intOpt(opts, "--max-length", 0, 0));
        model = model.withBatchTokens(intOpt(opts, "--batch-tokens", model.batchTokens(), 1));
        int window = 0;
        int stride = 0;
        boolean perToken = false;
        if (command == Command.EMBED) {
            if (opts.containsKey("--pooling")) {
                String p = opts.get("--pooling").toLowerCase(Locale.ROOT);
                if (!List.of("mean", "cls", "last").contains(p)) {
                    throw new UsageException("option --pooling: '" + opts.get("--pooling") + "' is not one of mean, cls, last");
                }
                model = model.withPooling(p);
            }
            if (opts.containsKey("--normalize")) {
                String v = opts.get("--normalize").toLowerCase(Locale.ROOT);
                if (!v.equals("true") && !v.equals("false")) {
                    throw new UsageException("option --normalize: '" + opts.get("--normalize") + "' is not true or false");
                }
                model = model.withNormalize(Boolean.valueOf(v));
            }
            model = model.withBidirectional(opts.containsKey("--bidirectional"));
        } else {
            perToken = opts.containsKey("--per-token");
            int chunk = intOpt(opts, "--attention-chunk", 0, 1);
            window = intOpt(opts, "--window", 0, 1);
            stride = intOpt(opts, "--stride", 0, 1);
            if (chunk > 0 && (window > 0 || stride > 0)) {
                throw new UsageException("use either --attention-chunk or --window/--stride, not both");
            }
            if ((window > 0) != (stride > 0)) {
                throw new UsageException(window > 0 ? "option --window needs --stride" : "option --stride needs --window");
            }
            if (stride > window) {
                throw new UsageException("option --stride (" + stride + ") must not exceed --window (" + window + ")");
            }
            if (window == 1) {
                throw new UsageException("option --window: 1 leaves no context; use at least 2");
            }
            model = model.withAttentionChunk(chunk).withWindow(window, stride);
        }
        return new JobSpec(command, input, output, format, opts.getOrDefault("--id-col", "id"),
                opts.getOrDefault("--text-col", "text"), opts.get("--master"), perToken, window, stride,
                intOpt(opts, "--partitions", 0, 1), intOpt(opts, "--chunk-rows", DEFAULT_CHUNK_ROWS, 1), model);
    }

    /** --verbose: a failure prints its stack trace too (read before parsing, so it holds for any failure). */
    public static boolean verbose(String... args) {
        return Arrays.asList(args).contains("--verbose");
    }

    private static String required(Map<String, String> opts, String name) {
        String v = opts.get(name);
        if (v == null) {
            throw new UsageException("missing required option " + name);
        }
        return v;
    }

    private static int intOpt(Map<String, String> opts, String name, int dflt, int min) {
        String v = opts.get(name);
        if (v == null) {
            return dflt;
        }
        int n;
        try {
            n = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("option " + name + ": '" + v + "' is not a whole number");
        }
        if (n < min) {
            throw new UsageException("option " + name + ": " + n + " is out of range (must be >= " + min + ")");
        }
        return n;
    }

    /**
     * Fails on the driver, before Spark starts, for a name no executor could resolve. Kernel
     * names ({@code org/repo...}) are resolved where the model loads, so they pass here.
     */
    static String checkAttn(Command command, String name) {
        AttentionInterface.Split split = AttentionInterface.split(name);
        if (!KernelName.isKernel(split.base())) {
            AttentionFunction fn;
            try {
                fn = AttentionInterface.ALL.get(name);
            } catch (IllegalArgumentException e) {
                throw new UsageException("option --attn: " + e.getMessage());
            }
            if (fn instanceof AttentionInterface.Unavailable u) {
                throw new UsageException("option --attn: " + u.reason());
            }
        }
        if (command == Command.EMBED && split.paged()) {
            throw new UsageException("option --attn: '" + name + "' reads keys/values from a paged KV cache, which only"
                    + " causal scoring has; embed with '" + split.base() + "' instead");
        }
        return name;
    }
}
