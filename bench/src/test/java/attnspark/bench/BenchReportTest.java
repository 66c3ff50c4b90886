package attnspark.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import attnspark.bench.BenchReport.ConfigResult;
import attnspark.bench.BenchReport.Corpus;
import attnspark.bench.BenchReport.JobResult;
import attnspark.bench.BenchReport.Machine;
import attnspark.job.JobSummary;
import attnspark.kernels.CpuInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchReportTest {
    private static final Machine MACHINE = new Machine(
            2,
            new CpuInfo(CpuInfo.Vendor.INTEL, "test cpu", 6, 167, List.of("avx2", "fma", "avx512f")),
            "Linux",
            "OpenJDK 17",
            "1.20.0",
            6144,
            true,
            "openblas",
            128);

    // 1,000 tokens; medians by hand: ORT b=8 -> 2 s (500 tokens/s), ORT b=32 -> 1 s (1,000), attnspark 4096 -> 0.5 s
    // (2,000),
    // attnspark 8192 -> 0.8 s (1,250)
    private static final ConfigResult ORT8 = ConfigResult.onnxRuntime(8, 1500, new double[] {2, 1, 3});
    private static final ConfigResult ORT32 = ConfigResult.onnxRuntime(32, 6000, new double[] {1, 1, 5});
    private static final ConfigResult AS4096 = ConfigResult.attnspark("sdpa", 4096, new double[] {0.5, 0.4, 9});
    private static final ConfigResult AS8192 = ConfigResult.attnspark("sdpa", 8192, new double[] {0.8, 0.7, 0.9});
    // the job at budget 4096: job seconds 1, 2, 4 -> median 2 -> 500 tokens/s = 0.25 of in process;
    // against the in-process pass before each run (2, 0.5, 1.5 s): 0.5, 0.5, 0.75 -> median 0.5
    private static final JobResult JOB = new JobResult(
            "scripts/attnspark embed ...",
            "sdpa",
            4096,
            10,
            1000,
            new double[] {4, 1, 2},
            new double[] {20, 18, 19},
            new double[] {2, 0.5, 1.5},
            List.of());

    private static BenchReport report(JobResult job) {
        return new BenchReport(
                new Corpus("test corpus", 10, 1000, 256),
                "model-dir",
                3,
                MACHINE,
                List.of(ORT8, ORT32, AS4096, AS8192),
                job,
                0.99999,
                "2026-01-01T00:00:00Z");
    }

    @Test
    void medianOfOddAndEvenCounts() {
        assertEquals(2.0, BenchReport.median(new double[] {3, 1, 2}));
        assertEquals(2.5, BenchReport.median(new double[] {4, 1, 3, 2}));
        assertEquals(7.0, BenchReport.median(new double[] {7}));
        assertThrows(IllegalArgumentException.class, () -> BenchReport.median(new double[0]));
        assertThrows(IllegalArgumentException.class, () -> BenchReport.median(new double[] {1, Double.NaN, 2}));
        double[] x = {3, 1, 2};
        BenchReport.median(x);
        assertArrayEquals(new double[] {3, 1, 2}, x, "median must not reorder the rounds");
    }

    @Test
    void bestOfEachEngineRatioAndTheLastLine() {
        BenchReport r = report(null);
        assertSame(ORT32, r.best(BenchReport.ONNXRUNTIME));
        assertSame(AS4096, r.best(BenchReport.ATTNSPARK));
        assertEquals(2.0, r.ratio(), 1e-12);
        // round by round ORT32 / AS4096: 1/0.5 = 2, 1/0.4 = 2.5, 5/9 = 0.556 -> median 2
        assertEquals(2.0, r.medianRoundRatio(), 1e-12);
        assertEquals("attnspark_tokens_per_s=2000.0 onnxruntime_tokens_per_s=1000.0 ratio=2.000", r.summaryLine());
    }

    @Test
    void benchJsonHoldsEachPassHeapAllocationAndItsMedianPerToken() {
        ConfigResult boxed = ConfigResult.attnspark("sdpa", 2048, new double[] {1, 1, 1});
        long[] heap = boxed.heapBytes();
        heap[0] = 5_000_000;
        heap[1] = 1_000_000;
        heap[2] = 3_000_000; // median 3,000,000 over 1,000 tokens: 3,000 a token
        BenchReport r = new BenchReport(
                new Corpus("test corpus", 10, 1000, 256),
                "model-dir",
                3,
                MACHINE,
                List.of(ORT8, boxed),
                null,
                0.99999,
                "2026-01-01T00:00:00Z");
        JsonNode c = r.toJson().get("configs").get(1);
        assertEquals(3, c.get("heap_bytes_allocated").size());
        assertEquals(5_000_000L, c.get("heap_bytes_allocated").get(0).asLong());
        assertEquals(3000.0, c.get("median_heap_bytes_per_token").asDouble(), 1e-9);
        assertEquals(3, ORT8.heapBytes().length, "one figure per timed round");
    }

    @Test
    void benchJsonHoldsEveryConfigurationItsMediansAndTheJob(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("bench.json");
        report(JOB).writeJson(file);
        try (var files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList(), "only bench.json, no staging file");
        }
        JsonNode j = new ObjectMapper().readTree(file.toFile());
        assertEquals(1000, j.at("/corpus/tokens").asLong());
        assertEquals(100.0, j.at("/corpus/mean_tokens_per_text").asDouble());
        assertEquals(3, j.get("rounds").asInt());
        assertEquals(2, j.at("/machine/cores").asInt());
        assertEquals("1.20.0", j.at("/machine/onnxruntime").asText());
        assertEquals(128, j.at("/machine/linear_k_steps_above").asInt());
        assertEquals("test cpu", j.at("/machine/cpu").asText());
        assertEquals(6, j.at("/machine/cpu_family").asInt());
        assertEquals(167, j.at("/machine/cpu_model").asInt());
        assertEquals(
                "[\"avx2\",\"fma\",\"avx512f\"]",
                j.at("/machine/cpu_vector_isa").toString());
        JsonNode configs = j.get("configs");
        assertEquals(4, configs.size());
        double[][] seconds = {{2, 1, 3}, {1, 1, 5}, {0.5, 0.4, 9}, {0.8, 0.7, 0.9}};
        double[] medians = {2, 1, 0.5, 0.8};
        for (int i = 0; i < 4; i++) {
            JsonNode c = configs.get(i);
            for (int k = 0; k < 3; k++)
                assertEquals(seconds[i][k], c.get("seconds").get(k).asDouble());
            assertEquals(medians[i], c.get("median_seconds").asDouble());
            assertEquals(1000 / medians[i], c.get("tokens_per_s").asDouble(), 1e-9);
        }
        assertEquals(32, configs.get(1).get("batch_size").asInt());
        assertEquals(6000.0, configs.get(1).get("mean_padded_tokens_per_batch").asDouble());
        assertEquals(8192, configs.get(3).get("batch_tokens").asInt());
        assertEquals("sdpa", configs.get(3).get("attn").asText());
        assertEquals("attnspark sdpa budget=4096", j.at("/best/attnspark").asText());
        assertEquals("onnxruntime batch=32", j.at("/best/onnxruntime").asText());
        assertEquals(2.0, j.at("/best/ratio").asDouble(), 1e-12);
        assertEquals(2.0, j.at("/best/median_of_round_ratios").asDouble(), 1e-12);
        assertEquals(500.0, j.at("/job/tokens_per_s").asDouble(), 1e-9);
        assertEquals(2000.0, j.at("/job/in_process_tokens_per_s").asDouble(), 1e-9);
        assertEquals(0.25, j.at("/job/job_over_in_process").asDouble(), 1e-12);
        assertEquals(0.5, j.at("/job/job_over_paired_in_process").asDouble(), 1e-12);
        assertEquals(1.5, j.at("/job/paired_in_process_seconds").get(2).asDouble());
        assertEquals(20.0, j.at("/job/wall_seconds").get(0).asDouble());
    }

    @Test
    void withoutAJobThereIsNoJobSection(@TempDir Path dir) throws IOException {
        report(null).writeJson(dir.resolve("bench.json"));
        assertNull(
                new ObjectMapper().readTree(dir.resolve("bench.json").toFile()).get("job"));
    }

    @Test
    void theJobsOwnSummaryLineIsParsed() {
        // the line the job prints (JobSummary#line), so a change of its format fails here, not in a bench run
        String line = new JobSummary("embed", 2758, 0, 41_234, 12.5, "target/x", "file:/x", "parquet").line();
        String output = "attnspark embed: wrote ...\n" + line + "\n";
        JobBench.Summary s = JobBench.parse(output);
        assertNotNull(s, "no summary found in: " + output);
        assertEquals(new JobBench.Summary(2758, 0, 41_234, 12.5), s);
        String two = new JobSummary("embed", 1, 1, 5, 1, "o", "o", "jsonl").line() + "\n" + line;
        assertEquals(2758, JobBench.parse(two).rows(), "the last summary line counts");
        assertNull(JobBench.parse("attnspark embed: something failed\n"));
    }

    @Test
    void meanPaddedTokensOfSortedFixedSizeBatches() {
        // sorted 10, 7 | 5, 3 -> 2x10 + 2x5 = 20 + 10 -> mean 15; one batch of 4 -> 4 x 10 = 40
        assertEquals(15.0, OrtEmbedder.meanPaddedBatchTokens(new int[] {10, 3, 7, 5}, 2));
        assertEquals(40.0, OrtEmbedder.meanPaddedBatchTokens(new int[] {10, 3, 7, 5}, 8));
        // 10, 7, 5 | 3 -> 30 + 3 -> 16.5
        assertEquals(16.5, OrtEmbedder.meanPaddedBatchTokens(new int[] {10, 3, 7, 5}, 3));
    }

    @Test
    void minCosineOfRowPairs() {
        float[][] a = {{1, 0}, {1, 1}};
        float[][] b = {{2, 0}, {1, 0}};
        assertEquals(Math.sqrt(0.5), EmbedBench.minCosine(a, b), 1e-12);
        assertEquals(1.0, EmbedBench.minCosine(a, a), 1e-12);
    }

    @Test
    void thePlotIsAPngOfTheStatedSize(@TempDir Path dir) throws IOException {
        for (JobResult job : new JobResult[] {null, JOB}) {
            Path png = dir.resolve("bench.png");
            BenchPlot.write(report(job), png);
            BufferedImage img = ImageIO.read(png.toFile());
            assertNotNull(img, "not a readable image");
            assertEquals(BenchPlot.WIDTH, img.getWidth());
            assertEquals(BenchPlot.HEIGHT, img.getHeight());
            assertFalse(Files.exists(dir.resolve("bench.png.tmp")));
        }
    }

    @Test
    void optionsParseAndBadOnesNameTheOption() {
        BenchOptions d = BenchOptions.parse(new String[0]);
        assertEquals(5, d.rounds());
        assertArrayEquals(new int[] {1, 8, 32, 128}, d.ortBatches());
        BenchOptions o = BenchOptions.parse(new String[] {
            "--rounds",
            "3",
            "--budgets",
            "8192,1024,8192",
            "--attn",
            "sdpa,eager",
            "--job-rounds",
            "0",
            "--input",
            "x.jsonl",
            "--limit",
            "500"
        });
        assertEquals(3, o.rounds());
        assertArrayEquals(new int[] {1024, 8192}, o.budgets());
        assertEquals(List.of("sdpa", "eager"), o.attns());
        assertEquals(0, o.jobRounds());
        assertEquals(500, o.limit());
        assertEquals(0, d.limit());
        assertEquals(Path.of("x.jsonl"), o.input());
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse(new String[] {"--rounds", "0"}));
        assertTrue(e.getMessage().startsWith("--rounds"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class, () -> BenchOptions.parse(new String[] {"--budgets", "1024,lots"}));
        assertTrue(e.getMessage().contains("--budgets") && e.getMessage().contains("lots"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse(new String[] {"--turbo", "1"}));
        assertTrue(e.getMessage().contains("--turbo"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse(new String[] {"--out"}));
    }

    @Test
    void corpusFromJsonLinesOrTextLines(@TempDir Path dir) throws IOException {
        Path jsonl = Files.writeString(
                dir.resolve("in.jsonl"),
                "{\"id\":1,\"text\":\"a \\\"quoted\\\" text\"}\n\n{\"id\":2,\"text\":\"two\"}\n");
        BenchCorpus c = BenchCorpus.load(jsonl, dir, dir.resolve("out"));
        assertEquals(List.of("a \"quoted\" text", "two"), c.texts());
        assertEquals(jsonl, c.jobInput(), "the job reads the same file");

        Path txt = Files.writeString(dir.resolve("in.txt"), "first \"one\"\n\nsecond\n");
        BenchCorpus t = BenchCorpus.load(txt, dir, dir.resolve("out"));
        assertEquals(List.of("first \"one\"", "second"), t.texts());
        assertEquals(t.texts(), BenchCorpus.readJsonLines(t.jobInput()), "the job's copy holds the same texts");

        BenchCorpus first = BenchCorpus.load(txt, dir, dir.resolve("out"), 1);
        assertEquals(List.of("first \"one\""), first.texts());
        assertEquals(
                first.texts(), BenchCorpus.readJsonLines(first.jobInput()), "the job reads only the first texts too");

        Path bad = Files.writeString(
                dir.resolve("bad.jsonl"), "{\"id\":1,\"text\":\"ok\"}\n{\"id\":2,\"body\":\"no text\"}\n");
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> BenchCorpus.load(bad, dir, dir));
        assertTrue(
                e.getMessage().contains("bad.jsonl, line 2") && e.getMessage().contains("\"text\""), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> BenchCorpus.load(dir.resolve("in.parquet"), dir, dir));
        assertTrue(e.getMessage().contains("in.parquet"), e.getMessage());
    }
}
