package attnspark.job;

import static attnspark.job.JobTesting.embedSpec;
import static attnspark.job.JobTesting.scoreSpec;
import static org.junit.jupiter.api.Assertions.*;

import attnspark.api.ModelOptions;
import attnspark.api.ScoringMode;
import attnspark.job.JobSpec.Command;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class JobSpecTest {
    private static String error(Command c, String... args) {
        return assertThrows(UsageException.class, () -> JobSpec.parse(c, args)).getMessage();
    }

    /** The usage error of {@code embed --input i --output o OPTIONS...}. */
    private static String embedError(String... options) {
        return assertThrows(UsageException.class, () -> embedSpec("i", "o", options))
                .getMessage();
    }

    /** The usage error of {@code score --input i --output o --model MODEL OPTIONS...}. */
    private static String scoreError(String model, String... options) {
        return assertThrows(UsageException.class, () -> scoreSpec("i", "o", model, options))
                .getMessage();
    }

    @Test
    void embedWithEveryOption() {
        JobSpec s = embedSpec(
                "in.jsonl",
                "out",
                "--model",
                "/m",
                "--attn",
                "eager",
                "--format",
                "jsonl",
                "--id-col",
                "doc",
                "--text-col",
                "body",
                "--max-length",
                "128",
                "--pooling",
                "cls",
                "--normalize",
                "false",
                "--batch-tokens",
                "4096",
                "--master",
                "local[2]",
                "--bidirectional",
                "--partitions=3",
                "--chunk-rows",
                "64");
        assertEquals(Command.EMBED, s.command());
        assertEquals("in.jsonl", s.input());
        assertEquals("out", s.output());
        assertEquals(JobSpec.Format.JSONL, s.format());
        assertEquals("doc", s.idCol());
        assertEquals("body", s.textCol());
        assertEquals("local[2]", s.master());
        assertEquals(3, s.partitions());
        assertEquals(64, s.chunkRows());
        assertEquals("/m", s.model().modelDir());
        assertEquals("eager", s.model().attn());
        assertEquals(128, s.model().maxLength());
        assertEquals("cls", s.model().pooling());
        assertEquals(Boolean.FALSE, s.model().normalize());
        assertEquals(4096, s.model().batchTokens());
        assertTrue(s.model().bidirectional());
    }

    @Test
    void embedDefaults() {
        JobSpec s = embedSpec("in.parquet", "out");
        assertEquals(JobSpec.Format.PARQUET, s.format());
        assertEquals("id", s.idCol());
        assertEquals("text", s.textCol());
        assertNull(s.master());
        assertNull(s.model().modelDir());
        assertNull(s.model().pooling());
        assertNull(s.model().normalize());
        assertFalse(s.model().bidirectional());
        assertEquals(ModelOptions.defaults().batchTokens(), s.model().batchTokens());
    }

    @Test
    void score() {
        JobSpec s = scoreSpec("in.csv", "o", "/m", "--attention-chunk", "256", "--per-token", "--max-length", "512");
        assertTrue(s.perToken());
        assertEquals(256, s.model().attentionChunk());
        assertEquals(512, s.model().maxLength());
        JobSpec w = scoreSpec("i", "o", "/m", "--window", "512", "--stride", "256");
        assertEquals(512, w.window());
        assertEquals(256, w.stride());
        assertEquals(512, w.model().window());
        assertEquals(256, w.model().stride());
        assertThrows(UsageException.class, () -> scoreSpec("i", "o", "/m", "--window", "1", "--stride", "1"));
    }

    @Test
    void scoringModes() {
        String[] base = {"--input", "i", "--output", "o", "--model", "/m"};
        assertEquals(ScoringMode.FULL, score(base).model().mode());
        JobSpec legacy = score(base, "--window", "64", "--stride", "32");
        assertEquals(
                ScoringMode.HF_STRIDED,
                legacy.model().mode(),
                "--window/--stride alone still mean HF's strided recipe");
        assertEquals(
                legacy.model(),
                score(base, "--mode", "hf-strided", "--window", "64", "--stride", "32")
                        .model());
        JobSpec rolling = score(base, "--mode", "lm-eval-rolling", "--window", "64");
        assertEquals(ScoringMode.LM_EVAL_ROLLING, rolling.model().mode());
        assertEquals(64, rolling.model().window());
        assertEquals(0, rolling.model().stride());
        assertEquals(
                ScoringMode.FULL,
                score(base, "--mode", "full", "--attention-chunk", "16").model().mode());

        assertTrue(
                scoreError(base, "--mode", "hf-strided").contains("--mode hf-strided needs --window W and --stride S"));
        assertTrue(scoreError(base, "--mode", "hf-strided", "--window", "8").contains("needs --stride S"));
        assertTrue(scoreError(base, "--mode", "hf-strided", "--stride", "8").contains("needs --window W"));
        assertTrue(scoreError(base, "--mode", "lm-eval-rolling").contains("--mode lm-eval-rolling needs --window L"));
        assertTrue(scoreError(base, "--mode", "lm-eval-rolling", "--window", "8", "--stride", "4")
                .contains("takes no --stride"));
        assertTrue(scoreError(base, "--mode", "full", "--window", "8")
                .contains("--mode full scores each document in one forward"));
        assertTrue(scoreError(base, "--mode", "full", "--window", "8", "--stride", "4")
                .contains("takes no --window/--stride"));
        assertTrue(scoreError(base, "--mode", "lm-eval-rolling", "--window", "8", "--attention-chunk", "4")
                .contains("not both"));
        String bogus = scoreError(base, "--mode", "rolling");
        assertTrue(bogus.contains("--mode") && bogus.contains("lm-eval-rolling"), bogus);
        assertTrue(embedError("--mode", "full").contains("'attnspark score'"));
    }

    private static JobSpec score(String[] base, String... more) {
        return JobSpec.parse(Command.SCORE, concat(base, more));
    }

    private static String scoreError(String[] base, String... more) {
        return error(Command.SCORE, concat(base, more));
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void errorsNameTheOption() {
        assertTrue(embedError("--frobnicate", "1").contains("unknown option '--frobnicate'"));
        assertTrue(error(Command.EMBED, "--input").contains("--input needs a value"));
        assertTrue(error(Command.EMBED, "--input", "--output", "o").contains("--input needs a value"));
        assertTrue(embedError("--max-length", "ten").contains("--max-length: 'ten' is not a whole number"));
        assertTrue(embedError("--batch-tokens", "0").contains("--batch-tokens"));
        assertTrue(embedError("--max-length", "-1").contains("--max-length"));
        assertTrue(embedError("--format", "xml").contains("--format: 'xml'"));
        assertTrue(embedError("--pooling", "max").contains("--pooling: 'max'"));
        assertTrue(embedError("--normalize", "yes").contains("--normalize: 'yes'"));
        assertTrue(error(Command.EMBED, "--output", "o").contains("missing required option --input"));
        assertTrue(error(Command.EMBED, "--input", "i").contains("missing required option --output"));
        assertTrue(error(Command.SCORE, "--input", "i", "--output", "o").contains("missing required option --model"));
        assertTrue(embedError("--per-token").contains("'attnspark score'"));
        assertTrue(scoreError("m", "--pooling", "cls").contains("unknown option '--pooling'"));
        assertTrue(scoreError("m", "--attention-chunk", "8", "--window", "16", "--stride", "8")
                .contains("not both"));
        assertTrue(scoreError("m", "--window", "16").contains("--window needs --stride"));
        assertTrue(scoreError("m", "--window", "16", "--stride", "32").contains("must not exceed"));
        assertTrue(error(Command.EMBED, "--input", "i", "--input", "j", "--output", "o")
                .contains("more than once"));
        assertTrue(
                error(Command.EMBED, "stray", "--input", "i", "--output", "o").contains("unexpected argument 'stray'"));
        assertTrue(embedError("--bidirectional=true").contains("takes no value"));
    }

    @Test
    void help() {
        UsageException e = assertThrows(UsageException.class, () -> JobSpec.parse(Command.SCORE, "--help"));
        assertTrue(e.helpRequested());
        assertTrue(e.getMessage().contains("--attention-chunk"));
    }

    @Test
    void cliUsageErrorExitCode() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = JobRunner.main(
                Command.EMBED,
                new String[] {"--input", "x", "--output", "y", "--max-length", "lots"},
                new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err));
        assertEquals(JobRunner.EXIT_USAGE, code);
        assertTrue(err.toString().contains("--max-length: 'lots'"), err.toString());
        assertTrue(err.toString().contains("usage: attnspark embed"));
    }

    @Test
    void kernelOptionsOnEmbedAndScore() {
        for (Command c : Command.values()) {
            JobSpec s = JobSpec.parse(
                    c,
                    "--input",
                    "i",
                    "--output",
                    "o",
                    "--model",
                    "/m",
                    "--attn",
                    "other-org/attn@v2:fwd",
                    "--kernels-dir",
                    "/opt/kernels",
                    "--allow-all-kernels");
            assertEquals("other-org/attn@v2:fwd", s.model().attn());
            assertEquals("/opt/kernels", s.model().kernelsDir());
            assertTrue(s.model().allowAllKernels());
            assertEquals(Path.of("/opt/kernels"), s.model().kernelSource().kernelsDir());
            assertTrue(JobSpec.usage(c).contains("--kernels-dir DIR")
                    && JobSpec.usage(c).contains("--allow-all-kernels"));
        }
        JobSpec d = embedSpec("i", "o");
        assertNull(d.model().kernelsDir());
        assertFalse(d.model().allowAllKernels());
        assertTrue(scoreError("/m", "--allow-all-kernels=yes").contains("takes no value"));
        assertTrue(embedError("--kernels-dir").contains("needs a value"));
    }

    @Test
    void attnPerSubConfigForm() {
        JobSpec s = embedSpec("i", "o", "--attn", "text_config=sdpa,=eager");
        assertEquals("text_config=sdpa,=eager", s.model().attn());
        String e = embedError("--attn", "text_config=sdpa,eager");
        assertTrue(e.startsWith("option --attn: ") && e.contains("key=name"), e);
    }

    @Test
    void modelOptionsWithKernelsStaySerializable() throws Exception {
        ModelOptions o = ModelOptions.defaults().withKernelsDir("/k").withAllowAllKernels(true);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(o);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            assertEquals(o, in.readObject());
        }
    }
}
