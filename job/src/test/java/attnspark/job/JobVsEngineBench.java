package attnspark.job;

import attnspark.api.EmbeddingResult;
import attnspark.api.ModelOptions;
import attnspark.load.Models;
import attnspark.api.TextEmbedder;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.management.OperatingSystemMXBean;

import java.io.BufferedReader;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Spark overhead, measured: the CLI embed job on local[*] ({@code scripts/attnspark embed}
 * in its own JVM, timed from process start to exit, so JVM and Spark start, model load, reading
 * and writing all count) against the in-process engine ({@link TextEmbedder#embed} over the same
 * texts after a warm-up, model load not counted), alternately, in rounds. Prints medians and the
 * job/engine ratio of tokens per second; the last line is
 * {@code job_tokens_per_s=X engine_tokens_per_s=Y ratio=Z}. Tokens per CPU-second (the process's
 * user+system time) are printed beside the wall-clock figures: on a machine shared with other
 * work they say what the job costs rather than what share of the cores it got. Not a test: run with
 * {@code scripts/job-vs-engine CORPUS.jsonl [ROUNDS] [extra job options...]} on a built tree.
 */
public final class JobVsEngineBench {
    private static final Pattern TOKENS = Pattern.compile(" tokens=(\\d+) .*tokens/s=([0-9.]+)");
    /** bash's {@code times}: the children's user and system time, e.g. {@code 1m2.345s 0m4.500s}. */
    private static final Pattern TIMES = Pattern.compile("(?m)^(\\d+)m([0-9.]+)s (\\d+)m([0-9.]+)s$");

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: JobVsEngineBench CORPUS.jsonl [ROUNDS] [extra job options...]");
            System.exit(2);
        }
        Path corpus = Path.of(args[0]);
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        List<String> jobExtra = args.length > 2 ? Arrays.asList(args).subList(2, args.length) : List.of();
        List<String> texts = readTexts(corpus);
        Path root = Path.of(System.getProperty("attnspark.root", ".")).toAbsolutePath().normalize();
        Path work = Files.createTempDirectory("job-vs-engine");
        System.out.printf(Locale.ROOT, "texts=%d rounds=%d cores=%d job options=%s%n", texts.size(), rounds,
                Runtime.getRuntime().availableProcessors(), jobExtra);

        double[] engine = new double[rounds], job = new double[rounds], jobInside = new double[rounds];
        double[] engineCpu = new double[rounds], jobCpu = new double[rounds];
        OperatingSystemMXBean os =
                (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        try (TextEmbedder e = Models.loadEmbedder(ModelOptions.defaults())) {
            e.embed(texts.subList(0, Math.min(500, texts.size())));   // warm-up
            for (int r = 0; r < rounds; r++) {
                long c0 = os.getProcessCpuTime(), t0 = System.nanoTime();
                List<EmbeddingResult> out = e.embed(texts);
                double s = (System.nanoTime() - t0) / 1e9, cpu = (os.getProcessCpuTime() - c0) / 1e9;
                long tokens = out.stream().mapToLong(EmbeddingResult::nTokens).sum();
                engine[r] = tokens / s;
                engineCpu[r] = tokens / cpu;

                // bash runs the CLI and then prints its CPU time with `times`
                List<String> cmd = new ArrayList<>(List.of("bash", "-c", "\"$0\" \"$@\"; rc=$?; times; exit $rc",
                        root.resolve("scripts/attnspark").toString(), "embed",
                        "--input", corpus.toAbsolutePath().toString(), "--output", work.resolve("out" + r).toString()));
                cmd.addAll(jobExtra);
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
                pb.environment().put("ATTNSPARK_NO_BUILD", "1");
                long j0 = System.nanoTime();
                Process p = pb.start();
                String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                int rc = p.waitFor();
                double js = (System.nanoTime() - j0) / 1e9;
                Matcher m = TOKENS.matcher(log);
                if (rc != 0 || !m.find()) throw new IllegalStateException("job failed (exit " + rc + "):\n" + log);
                long jobTokens = Long.parseLong(m.group(1));
                if (jobTokens != tokens) {
                    throw new IllegalStateException("job counted " + jobTokens + " tokens, the engine " + tokens);
                }
                job[r] = jobTokens / js;
                jobInside[r] = Double.parseDouble(m.group(2));
                Matcher t = TIMES.matcher(log);
                double childCpu = Double.NaN;
                while (t.find()) {   // the last pair is the children's
                    childCpu = Integer.parseInt(t.group(1)) * 60 + Double.parseDouble(t.group(2))
                            + Integer.parseInt(t.group(3)) * 60 + Double.parseDouble(t.group(4));
                }
                jobCpu[r] = jobTokens / childCpu;
                System.out.printf(Locale.ROOT, "round %d: engine %.0f tokens/s (%.1f s; %.0f tokens per CPU-second);"
                                + " job %.0f tokens/s (%.1f s wall; %.0f tokens/s read-to-write inside the JVM; %.0f tokens per CPU-second)%n",
                        r, engine[r], s, engineCpu[r], job[r], js, jobInside[r], jobCpu[r]);
            }
        }
        double eMed = median(engine), jMed = median(job);
        System.out.printf(Locale.ROOT, "median: engine %.0f tokens/s, job %.0f tokens/s (read-to-write %.0f), job/engine %.3f;"
                        + " per CPU-second: engine %.0f, job %.0f, job/engine %.3f%n",
                eMed, jMed, median(jobInside), jMed / eMed, median(engineCpu), median(jobCpu), median(jobCpu) / median(engineCpu));
        System.out.printf(Locale.ROOT, "job_tokens_per_s=%.1f engine_tokens_per_s=%.1f ratio=%.4f%n", jMed, eMed, jMed / eMed);
    }

    static List<String> readTexts(Path jsonl) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<String> texts = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(jsonl)) {
            for (String line; (line = r.readLine()) != null; ) {
                if (!line.isBlank()) texts.add(json.readTree(line).path("text").asText());
            }
        }
        return texts;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
