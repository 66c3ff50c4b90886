package attnspark.corpus;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Seeded synthetic corpora for benchmarks and scale tests, as JSON lines {@code {"id":"0","text":"..."}}.
 *
 * <p>A text is sentences of 5-18 words drawn by rank from {@code words.txt} (8,001 frequent English
 * words) with Zipf's law (P(rank r) proportional to 1/r), a comma after about one word in ten,
 * a capital at each sentence start and a full stop at its end. Every word and mark is exactly one
 * token of all-MiniLM-L6-v2's tokenizer, so a row's length in tokens ([CLS] and [SEP] included) is
 * drawn first, uniformly from its kind's range, and met exactly:
 * <ul>
 *   <li>{@link Kind#SHORT}: 8-64 tokens (mean 36), one to a few sentences, like STS-B pairs' halves;</li>
 *   <li>{@link Kind#LONG}: 240-256 tokens (mean 248), documents that fill MiniLM's 256-token
 *       maximum without being truncated.</li>
 * </ul>
 * Other tokenizers split the same words differently (a byte-level BPE needs about as many tokens
 * per word; a small sentencepiece vocabulary more).
 *
 * <p>Row {@code i} depends only on {@code (seed, i)}: the same seed gives the same bytes on every
 * run and JVM, and the first N rows of a longer corpus are the N-row corpus.
 *
 * <p>{@code scripts/gen-corpus --kind short|long --rows N [--seed S] --out FILE} ({@code --out -}: standard output)
 */
public final class CorpusGenerator {
    /** Row kinds with their token-length range (inclusive, special tokens included). */
    public enum Kind {
        SHORT(8, 64),
        LONG(240, 256);

        public final int minTokens;
        public final int maxTokens;

        Kind(int minTokens, int maxTokens) {
            this.minTokens = minTokens;
            this.maxTokens = maxTokens;
        }

        public String cliName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Tokens the tokenizer adds around every text: [CLS] ... [SEP]. */
    static final int SPECIAL_TOKENS = 2;

    static final long DEFAULT_SEED = 42;
    private static final double COMMA_PROBABILITY = 0.1;

    private static final String[] WORDS = loadWords();
    /** cdf[r] = sum over ranks 0..r of 1/(rank+1): Zipf with exponent 1. */
    private static final double[] ZIPF_CDF = zipfCdf(WORDS.length);

    private CorpusGenerator() {}

    /** The text of row {@code row}. */
    public static String text(Kind kind, long seed, long row) {
        SplittableRandom rnd = new SplittableRandom(mix(seed, row));
        int tokens = kind.minTokens + rnd.nextInt(kind.maxTokens - kind.minTokens + 1);
        StringBuilder sb = new StringBuilder(tokens * 8);
        int left = tokens - SPECIAL_TOKENS;
        while (left > 0) {
            int sentence = 6 + rnd.nextInt(14); // tokens incl. the full stop: 5-18 words
            if (sentence >= left - 1) sentence = left; // the last sentence takes the rest, never leaving 1
            appendSentence(sb, rnd, sentence);
            left -= sentence;
        }
        return sb.toString();
    }

    /** A sentence of exactly {@code tokens} tokens (words, commas, one full stop). */
    private static void appendSentence(StringBuilder sb, SplittableRandom rnd, int tokens) {
        if (!sb.isEmpty()) sb.append(' ');
        int content = tokens - 1;
        boolean previousWasWord = false;
        for (int i = 0; i < content; i++) {
            boolean comma = previousWasWord && i < content - 1 && rnd.nextDouble() < COMMA_PROBABILITY;
            if (comma) {
                sb.append(',');
                previousWasWord = false;
                continue;
            }
            String w = WORDS[zipfRank(rnd)];
            if (i > 0) sb.append(' ');
            if (i == 0) sb.append(Character.toUpperCase(w.charAt(0))).append(w, 1, w.length());
            else sb.append(w);
            previousWasWord = true;
        }
        sb.append('.');
    }

    /** Writes rows 0..rows-1 as JSON lines. The texts hold only letters, spaces, commas and stops: nothing to escape. */
    public static void write(Kind kind, long rows, long seed, Writer out) throws IOException {
        for (long i = 0; i < rows; i++) {
            out.write("{\"id\":\"");
            out.write(Long.toString(i));
            out.write("\",\"text\":\"");
            out.write(text(kind, seed, i));
            out.write("\"}\n");
        }
    }

    /**
     * Writes the corpus to {@code file}: staged beside it and moved into place once complete.
     * Only a regular file (or a new one) is replaced: a device, link or directory is refused.
     */
    public static void write(Kind kind, long rows, long seed, Path file) throws IOException {
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException(
                    file + " exists and is not a regular file; give a new or regular file (or - for stdout)");
        }
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path staging = Files.createTempFile(parent, "." + file.getFileName(), ".tmp");
        try {
            try (BufferedWriter w = Files.newBufferedWriter(staging, StandardCharsets.UTF_8)) {
                write(kind, rows, seed, w);
            }
            Files.move(staging, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(staging);
        }
    }

    public static void main(String[] args) {
        Kind kind = null;
        long rows = -1;
        long seed = DEFAULT_SEED;
        Path out = null;
        try {
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("--help") || a.equals("-h")) {
                    System.out.println(usage());
                    return;
                }
                if (i + 1 >= args.length) throw new IllegalArgumentException(a + " needs a value");
                String v = args[++i];
                switch (a) {
                    case "--kind" -> kind = parseKind(v);
                    case "--rows" -> rows = parseLong(a, v, 1);
                    case "--seed" -> seed = parseLong(a, v, Long.MIN_VALUE);
                    case "--out" -> out = Path.of(v);
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            }
            if (kind == null) throw new IllegalArgumentException("--kind short|long is required");
            if (rows < 0) throw new IllegalArgumentException("--rows N is required");
            if (out == null) throw new IllegalArgumentException("--out FILE is required");
        } catch (IllegalArgumentException e) {
            System.err.println("gen-corpus: " + e.getMessage());
            System.err.println(usage());
            System.exit(2);
            return;
        }
        long t0 = System.nanoTime();
        try {
            if (out.toString().equals("-")) {
                Writer w = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
                write(kind, rows, seed, w);
                w.flush();
                return;
            }
            write(kind, rows, seed, out);
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("gen-corpus: cannot write " + out + ": " + e.getMessage());
            System.exit(1);
        }
        System.out.printf(
                Locale.ROOT,
                "gen-corpus: wrote %d %s rows (%d-%d MiniLM tokens each, seed %d) to %s in %.1f s%n",
                rows,
                kind.cliName(),
                kind.minTokens,
                kind.maxTokens,
                seed,
                out,
                (System.nanoTime() - t0) / 1e9);
    }

    static String usage() {
        return "usage: gen-corpus --kind short|long --rows N [--seed S (default " + DEFAULT_SEED
                + ")] --out FILE.jsonl|-\n"
                + "  short: " + Kind.SHORT.minTokens + "-" + Kind.SHORT.maxTokens + " tokens per row, long: "
                + Kind.LONG.minTokens + "-" + Kind.LONG.maxTokens + " (all-MiniLM-L6-v2 tokens, [CLS]/[SEP] included)";
    }

    private static Kind parseKind(String v) {
        for (Kind k : Kind.values()) if (k.cliName().equals(v)) return k;
        throw new IllegalArgumentException("--kind: expected short or long, got '" + v + "'");
    }

    private static long parseLong(String option, String v, long min) {
        long n;
        try {
            n = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + ": expected an integer, got '" + v + "'");
        }
        if (n < min) throw new IllegalArgumentException(option + ": expected at least " + min + ", got " + n);
        return n;
    }

    /** Rank 0..WORDS.length-1 with P(r) proportional to 1/(r+1). */
    private static int zipfRank(SplittableRandom rnd) {
        double u = rnd.nextDouble() * ZIPF_CDF[ZIPF_CDF.length - 1];
        int lo = 0, hi = ZIPF_CDF.length - 1;
        while (lo < hi) { // first r with cdf[r] > u
            int mid = (lo + hi) >>> 1;
            if (ZIPF_CDF[mid] > u) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }

    private static double[] zipfCdf(int n) {
        double[] cdf = new double[n];
        double s = 0;
        for (int r = 0; r < n; r++) {
            s += 1.0 / (r + 1);
            cdf[r] = s;
        }
        return cdf;
    }

    /** One well-mixed seed per (seed, row) so rows are independent of each other and of the row count. */
    private static long mix(long seed, long row) {
        long z = seed * 0x9E3779B97F4A7C15L + row;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L; // splitmix64 finaliser
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    static String[] words() {
        return WORDS.clone();
    }

    private static String[] loadWords() {
        InputStream in = CorpusGenerator.class.getResourceAsStream("words.txt");
        if (in == null)
            throw new IllegalStateException(
                    "attnspark/corpus/words.txt missing from the class path; rebuild attnspark-core");
        List<String> words = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isEmpty() || line.startsWith("#")) continue;
                if (!line.matches("[a-z]+"))
                    throw new IllegalStateException("words.txt: '" + line + "' is not a lowercase word");
                words.add(line);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return words.toArray(new String[0]);
    }
}
