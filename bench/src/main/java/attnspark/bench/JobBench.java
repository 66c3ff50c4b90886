package attnspark.bench;

import attnspark.bench.BenchReport.JobResult;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The job's figure: {@code scripts/attnspark embed} on local[*] over the bench's texts, a
 * separate JVM per run, timed by the job itself (its summary line: reading, model load in the
 * tasks, embedding and writing; not the JVM and Spark start-up, which the wall time adds).
 */
final class JobBench {
    /** The job's summary line (attnspark.job.JobSummary#line). */
    static final Pattern SUMMARY = Pattern.compile(
            "^attnspark embed: rows=(\\d+) errors=(\\d+) tokens=(\\d+) seconds=([0-9.]+) tokens/s=([0-9.]+) output=.*$",
            Pattern.MULTILINE);

    /** What one summary line says. */
    record Summary(long rows, long errors, long tokens, double seconds) {}

    private JobBench() {}

    /** The last summary line in {@code output}; null when there is none. */
    static Summary parse(String output) {
        Matcher m = SUMMARY.matcher(output);
        Summary last = null;
        while (m.find()) {
            last = new Summary(
                    Long.parseLong(m.group(1)),
                    Long.parseLong(m.group(2)),
                    Long.parseLong(m.group(3)),
                    Double.parseDouble(m.group(4)));
        }
        return last;
    }

    /** One in-process pass over the bench's texts at the job's configuration; returns its seconds. */
    interface InProcessPass {
        double seconds() throws Exception;
    }

    /** The job {@code o.jobRounds()} times, each run right after one timed {@code inProcess} pass. */
    static JobResult run(
            Path root,
            BenchCorpus corpus,
            long tokens,
            BenchOptions o,
            String attn,
            int budget,
            InProcessPass inProcess)
            throws Exception {
        Path script = root.resolve("scripts/attnspark");
        if (!Files.isExecutable(script)) {
            throw new IllegalStateException(
                    script + " not found: run the bench as scripts/attnspark bench (it sets -Dattnspark.root)");
        }
        Path jobOutput = o.out().resolve("job-output");
        List<String> cmd = new ArrayList<>(List.of(
                script.toString(),
                "embed",
                "--input",
                corpus.jobInput().toAbsolutePath().toString(),
                "--output",
                jobOutput.toAbsolutePath().toString(),
                "--attn",
                attn,
                "--batch-tokens",
                String.valueOf(budget),
                "--max-length",
                String.valueOf(o.maxLength())));
        if (o.modelDir() != null)
            cmd.addAll(List.of("--model", o.modelDir().toAbsolutePath().toString()));
        double[] jobSeconds = new double[o.jobRounds()], wall = new double[o.jobRounds()];
        double[] paired = new double[o.jobRounds()];
        List<JsonNode> timelines = new ArrayList<>();
        long rows = 0;
        for (int r = 0; r < o.jobRounds(); r++) {
            paired[r] = inProcess.seconds();
            Path log = o.out().resolve("job-" + (r + 1) + ".log");
            ProcessBuilder pb =
                    new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("ATTNSPARK_NO_BUILD", "1");
            long t0 = System.nanoTime();
            int code = pb.start().waitFor();
            wall[r] = (System.nanoTime() - t0) / 1e9;
            String output = Files.readString(log, StandardCharsets.UTF_8);
            Summary s = parse(output);
            if (code != 0 || s == null) {
                throw new IllegalStateException(
                        "the job failed (exit " + code + "): " + String.join(" ", cmd) + "; its output is in " + log);
            }
            if (s.rows() != corpus.texts().size() || s.errors() != 0 || s.tokens() != tokens) {
                throw new IllegalStateException("the job embedded something else: rows=" + s.rows() + " errors="
                        + s.errors() + " tokens=" + s.tokens() + ", expected rows="
                        + corpus.texts().size() + " errors=0 tokens=" + tokens + " (see " + log + ")");
            }
            jobSeconds[r] = s.seconds();
            rows = s.rows();
            timelines.add(timeline(jobOutput));
            System.out.printf(
                    "job round %d: %.2f s in the job, %.2f s wall, %.0f tokens/s (in process just before: %.2f s, %.0f tokens/s)%n",
                    r + 1, s.seconds(), wall[r], tokens / s.seconds(), paired[r], tokens / paired[r]);
            // the job's own timeline line (JobTimeline.Breakdown#line), printed under the round's line
            output.lines()
                    .filter(l -> l.startsWith("attnspark embed: timeline "))
                    .forEach(l -> System.out.println("  " + l));
        }
        return new JobResult(String.join(" ", cmd), attn, budget, rows, tokens, jobSeconds, wall, paired, timelines);
    }

    /** The {@code timeline} the job wrote into its {@code _attnspark_metrics.json}; a null node when it has none. */
    static JsonNode timeline(Path output) throws IOException {
        Path metrics = output.resolve("_attnspark_metrics.json");
        if (!Files.isRegularFile(metrics)) {
            throw new IllegalStateException("the job wrote no " + metrics);
        }
        JsonNode t = new ObjectMapper().readTree(metrics.toFile()).path("timeline");
        return t.isMissingNode() ? NullNode.getInstance() : t;
    }
}
