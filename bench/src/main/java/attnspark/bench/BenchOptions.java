package attnspark.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Command line of {@code scripts/attnspark bench}.
 *
 * @param input        JSON lines with a {@code text} field (the job reads the same file), or a .txt file of one
 *                     text per line; null = the STS-B test sentences in ../shared/data/stsb
 * @param modelDir     a model directory with an ONNX file and tokenizer.json; null = the bundled all-MiniLM-L6-v2
 * @param rounds       timed rounds per configuration (after one warm-up round)
 * @param out          where bench.json, bench.png and the job's output go
 * @param attns        attnspark attention implementations to time
 * @param budgets      attnspark batch token budgets to sweep
 * @param ortBatches   ONNX Runtime batch sizes (texts per run, sorted by length)
 * @param maxLength    max tokens per text, specials included, for both engines
 * @param jobRounds    runs of the CLI job on local[*]; 0 = skip the job
 * @param limit        use only the first this many texts; 0 = all
 */
public record BenchOptions(
        Path input,
        Path modelDir,
        int rounds,
        Path out,
        List<String> attns,
        int[] budgets,
        int[] ortBatches,
        int maxLength,
        int jobRounds,
        int limit) {

    static final String USAGE = """
            usage: attnspark bench [--input FILE] [--model DIR] [--rounds N] [--out DIR] [--attn NAME[,NAME...]]
                                   [--budgets N,N,...] [--ort-batches N,N,...] [--max-length N] [--job-rounds N] [--limit N]
              --input FILE        .jsonl/.json/.ndjson with a "text" field (the job reads it too) or .txt, one text
                                  per line (default: the STS-B test sentences, ../shared/data/stsb/sts-test.csv)
              --model DIR         model directory with model.onnx (or onnx/model.onnx) and tokenizer.json
                                  (default: the bundled all-MiniLM-L6-v2)
              --rounds N          timed rounds per configuration after one warm-up round (default 5)
              --out DIR           bench.json, bench.png, job output and logs (default target/bench)
              --attn LIST         attnspark attention implementations (default sdpa)
              --budgets LIST      attnspark batch token budgets (default 1024,2048,4096,8192,16384)
              --ort-batches LIST  ONNX Runtime batch sizes (default 1,8,32,128)
              --max-length N      max tokens per text, special tokens included, both engines (default 256)
              --job-rounds N      runs of `attnspark embed` on local[*] at the best budget (default 1; 0 = none)
              --limit N           only the first N texts of the input (default: all)
            The last line printed is: attnspark_tokens_per_s=X onnxruntime_tokens_per_s=Y ratio=Z""";

    public static BenchOptions defaults() {
        return new BenchOptions(
                null,
                null,
                5,
                Path.of("target", "bench"),
                List.of("sdpa"),
                new int[] {1024, 2048, 4096, 8192, 16384},
                new int[] {1, 8, 32, 128},
                256,
                1,
                0);
    }

    /** Parses the command line; a bad one throws IllegalArgumentException naming the option. */
    public static BenchOptions parse(String[] args) {
        BenchOptions d = defaults();
        Path input = d.input, modelDir = d.modelDir, out = d.out;
        int rounds = d.rounds, maxLength = d.maxLength, jobRounds = d.jobRounds, limit = d.limit;
        List<String> attns = d.attns;
        int[] budgets = d.budgets, ortBatches = d.ortBatches;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) throw new IllegalArgumentException(a + " needs a value");
            String v = args[++i];
            switch (a) {
                case "--input" -> input = Path.of(v);
                case "--model" -> modelDir = Path.of(v);
                case "--rounds" -> rounds = positive(a, v);
                case "--out" -> out = Path.of(v);
                case "--attn" -> attns = names(a, v);
                case "--budgets" -> budgets = positives(a, v);
                case "--ort-batches" -> ortBatches = positives(a, v);
                case "--max-length" -> maxLength = positive(a, v);
                case "--job-rounds" -> jobRounds = atLeast(a, v, 0);
                case "--limit" -> limit = positive(a, v);
                default -> throw new IllegalArgumentException("unknown option " + a);
            }
        }
        return new BenchOptions(input, modelDir, rounds, out, attns, budgets, ortBatches, maxLength, jobRounds, limit);
    }

    private static int positive(String option, String v) {
        return atLeast(option, v, 1);
    }

    private static int atLeast(String option, String v, int min) {
        int n;
        try {
            n = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + ": expected an integer, got '" + v + "'");
        }
        if (n < min) throw new IllegalArgumentException(option + ": expected at least " + min + ", got " + n);
        return n;
    }

    private static int[] positives(String option, String v) {
        int[] n = Arrays.stream(v.split(","))
                .mapToInt(s -> positive(option, s))
                .sorted()
                .distinct()
                .toArray();
        if (n.length == 0)
            throw new IllegalArgumentException(option + ": expected a comma-separated list, got '" + v + "'");
        return n;
    }

    private static List<String> names(String option, String v) {
        List<String> n = new ArrayList<>();
        for (String s : v.split(",")) if (!s.isBlank()) n.add(s.trim());
        if (n.isEmpty())
            throw new IllegalArgumentException(option + ": expected a comma-separated list, got '" + v + "'");
        return List.copyOf(n);
    }
}
