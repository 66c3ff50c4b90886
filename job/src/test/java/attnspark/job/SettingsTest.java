package attnspark.job;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.job.JobSpec.Command;
import attnspark.job.Settings.Environment;
import attnspark.job.Settings.Source;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** spark.attnspark.* settings: precedence, sources, unknown/conflicting keys, and the table driving all of it. */
class SettingsTest {
    @TempDir
    Path tmp;

    /** A value other than the default for each option (flags: true); an option missing here fails the test. */
    static final Map<String, String> SAMPLE = Map.ofEntries(
            Map.entry("input", "in.jsonl"),
            Map.entry("output", "out"),
            Map.entry("model", "/m"),
            Map.entry("attn", "eager"),
            Map.entry("kernels-dir", "/k"),
            Map.entry("attention-chunk", "64"),
            Map.entry("window", "32"),
            Map.entry("stride", "16"),
            Map.entry("format", "jsonl"),
            Map.entry("id-col", "doc"),
            Map.entry("text-col", "body"),
            Map.entry("max-length", "77"),
            Map.entry("pooling", "cls"),
            Map.entry("normalize", "false"),
            Map.entry("batch-tokens", "1234"),
            Map.entry("master", "local[3]"),
            Map.entry("partitions", "5"),
            Map.entry("chunk-rows", "9"),
            Map.entry("partition", "date=2026-12-01"),
            Map.entry("since", "2026-11-01"),
            Map.entry("until", "2026-11-30"),
            Map.entry("model-cache", "/cache"),
            Map.entry("progress-interval", "3"),
            Map.entry("keep-columns", "a,b"),
            Map.entry("mode", "lm-eval-rolling"));

    static Settings resolve(Command c, List<String> args, Map<String, String> sysProps) {
        return Settings.resolve(c, args, new Environment(sysProps, Map.of()));
    }

    static String error(Command c, List<String> args, Map<String, String> sysProps) {
        return assertThrows(UsageException.class, () -> resolve(c, args, sysProps))
                .getMessage();
    }

    /**
     * Each option set only through spark.attnspark.<name> gives the same spec as the same value on the
     * command line, and differs from leaving it out: the table really wires every option to both.
     */
    @Test
    void everyOptionFromSparkConfEqualsCommandLine() {
        for (Command c : Command.values()) {
            for (JobOption o : JobSpec.OPTIONS) {
                if (!o.appliesTo(c) || o.cliOnly()) {
                    continue;
                }
                String v = o.isFlag() ? "true" : SAMPLE.get(o.name());
                assertNotNull(v, "SettingsTest.SAMPLE needs a value for option " + o.name());
                List<String> base = new ArrayList<>(List.of("--input", "i", "--output", "o", "--model", "/m"));
                if (o.name().equals("window") || o.name().equals("stride")) { // they come as a pair
                    String other = o.name().equals("window") ? "stride" : "window";
                    base.addAll(List.of("--" + other, SAMPLE.get(other)));
                }
                if (o.name().equals("mode")) { // lm-eval-rolling needs its --window
                    base.addAll(List.of("--window", SAMPLE.get("window")));
                }
                if (o.name().equals("until")) {
                    base.addAll(List.of("--since", SAMPLE.get("since")));
                }
                List<String> cliArgs = new ArrayList<>(base);
                int at = cliArgs.indexOf("--" + o.name());
                if (at >= 0) {
                    cliArgs.set(at + 1, v);
                } else {
                    cliArgs.addAll(o.isFlag() ? List.of("--" + o.name()) : List.of("--" + o.name(), v));
                }
                List<String> confArgs = new ArrayList<>(base);
                at = confArgs.indexOf("--" + o.name());
                if (at >= 0) {
                    confArgs.remove(at);
                    confArgs.remove(at);
                }
                JobSpec viaCli = resolve(c, cliArgs, Map.of()).spec();
                Settings viaConf = resolve(c, confArgs, Map.of(o.confKey(), v));
                assertEquals(viaCli, viaConf.spec(), c + " " + o.confKey());
                Settings.Setting s = viaConf.settings().stream()
                        .filter(x -> x.option() == o)
                        .findFirst()
                        .orElseThrow();
                assertEquals(Source.SPARK_CONF, s.source(), o.name());
                boolean required = List.of("input", "output", "window", "stride", "until", "mode")
                                .contains(o.name())
                        || (c == Command.SCORE && o.name().equals("model"));
                if (!required) {
                    assertNotEquals(
                            resolve(c, confArgs, Map.of()).spec(),
                            viaConf.spec(),
                            c + " " + o.confKey() + " changed nothing");
                }
            }
        }
    }

    @Test
    void commandLineOverConfOverPropertiesFileOverJvmOverDefault() throws Exception {
        Path props = tmp.resolve("job.conf");
        Files.writeString(props, """
                # a spark-defaults style file: key whitespace value
                spark.attnspark.batch-tokens   2048
                spark.attnspark.chunk-rows     64
                spark.attnspark.max-length     100
                spark.attnspark.id-col         doc
                spark.sql.shuffle.partitions   7
                """);
        Settings s = resolve(
                Command.EMBED,
                List.of(
                        "--input",
                        "i",
                        "--output",
                        "o",
                        "--batch-tokens",
                        "4096",
                        "--properties-file",
                        props.toString(),
                        "--conf",
                        "spark.attnspark.chunk-rows=32",
                        "--conf",
                        "spark.attnspark.batch-tokens=1024",
                        "--conf",
                        "spark.executor.memory=3g"),
                Map.of(
                        "spark.attnspark.max-length",
                        "200",
                        "spark.attnspark.text-col",
                        "body",
                        "spark.attnspark.id-col",
                        "key"));
        JobSpec spec = s.spec();
        assertEquals(4096, spec.model().batchTokens()); // command line
        assertEquals(32, spec.chunkRows()); // --conf over the file
        assertEquals(100, spec.model().maxLength()); // the file over the JVM's conf
        assertEquals("doc", spec.idCol()); // the file over the JVM's conf
        assertEquals("body", spec.textCol()); // the JVM's conf over the default
        assertEquals(JobSpec.Format.PARQUET, spec.format()); // default
        assertEquals(Map.of("spark.executor.memory", "3g", "spark.sql.shuffle.partitions", "7"), spec.sparkConf());

        String printed = s.describe();
        assertLine(printed, "batch-tokens", "4096", "command line");
        assertTrue(printed.contains("overrides spark.attnspark.batch-tokens=1024 (from --conf)"), printed);
        assertTrue(
                printed.contains("overrides spark.attnspark.batch-tokens=2048 (from --properties-file " + props + ")"),
                printed);
        assertLine(printed, "chunk-rows", "32", "spark.attnspark.chunk-rows (from --conf)");
        assertLine(printed, "max-length", "100", "spark.attnspark.max-length (from --properties-file " + props + ")");
        assertLine(printed, "text-col", "body", "spark.attnspark.text-col (from the JVM's Spark conf");
        assertLine(printed, "format", "parquet", "default");
        assertLine(printed, "pooling", "(model's)", "default");
    }

    private static void assertLine(String printed, String name, String value, String from) {
        String line = printed.lines()
                .filter(l -> l.strip().startsWith(name + " "))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no line for " + name + " in\n" + printed));
        List<String> parts = List.of(line.strip().split("\\s+", 3));
        assertEquals(value, parts.get(1), line);
        assertTrue(parts.get(2).startsWith(from), line + " should say it came from " + from);
    }

    @Test
    void sparkDefaultsReadWhenNotUnderSparkSubmit() throws Exception {
        Files.writeString(
                tmp.resolve("spark-defaults.conf"), "spark.attnspark.chunk-rows 48\nspark.ui.enabled false\n");
        Map<String, String> env = Map.of("SPARK_CONF_DIR", tmp.toString());
        List<String> args = List.of("--input", "i", "--output", "o");
        JobSpec plain = Settings.resolve(Command.EMBED, args, new Environment(Map.of(), env))
                .spec();
        assertEquals(48, plain.chunkRows());
        assertEquals("false", plain.sparkConf().get("spark.ui.enabled"));
        // spark-submit has merged spark-defaults.conf into the JVM's properties already (and skips it with
        // --properties-file)
        JobSpec submitted = Settings.resolve(
                        Command.EMBED, args, new Environment(Map.of("spark.submit.deployMode", "client"), env))
                .spec();
        assertEquals(JobSpec.DEFAULT_CHUNK_ROWS, submitted.chunkRows());
    }

    @Test
    void unknownKeysFailNamingTheKeyAndTheNearestOption() {
        List<String> args = List.of("--input", "i", "--output", "o");
        String e = error(Command.EMBED, args, Map.of("spark.attnspark.batch_tokens", "10"));
        assertTrue(e.contains("unknown setting spark.attnspark.batch_tokens (from the JVM's Spark conf"), e);
        assertTrue(e.contains("nearest key is spark.attnspark.batch-tokens"), e);
        e = error(
                Command.SCORE,
                List.of("--input", "i", "--output", "o", "--model", "m", "--conf", "spark.attnspark.windw=8"),
                Map.of());
        assertTrue(e.contains("spark.attnspark.windw (from --conf)") && e.contains("spark.attnspark.window"), e);
        e = error(Command.EMBED, List.of("--input", "i", "--output", "o", "--batch-token", "8"), Map.of());
        assertTrue(e.contains("unknown option '--batch-token'") && e.contains("nearest option is --batch-tokens"), e);
        e = error(Command.EMBED, args, Map.of("spark.attnspark.print-config", "true"));
        assertTrue(e.contains("spark.attnspark.print-config") && e.contains("command-line option only"), e);
    }

    @Test
    void conflictingKeysFail() {
        String e = error(
                Command.SCORE,
                List.of("--input", "i", "--output", "o", "--model", "m", "--attention-chunk", "64"),
                Map.of("spark.attnspark.window", "32", "spark.attnspark.stride", "16"));
        assertTrue(
                e.contains("--attention-chunk") && e.contains("spark.attnspark.window (from the JVM's Spark conf"), e);
        e = error(
                Command.EMBED,
                List.of(
                        "--input",
                        "i",
                        "--output",
                        "o",
                        "--conf",
                        "spark.attnspark.max-length=8",
                        "--conf",
                        "spark.attnspark.max-length=9"),
                Map.of());
        assertTrue(e.contains("spark.attnspark.max-length given twice with different values"), e);
        e = error(
                Command.EMBED, List.of("--input", "i", "--output", "o"), Map.of("spark.attnspark.max-length", "lots"));
        assertTrue(
                e.startsWith("spark.attnspark.max-length (from the JVM's Spark conf")
                        && e.contains("'lots' is not a whole number"),
                e);
        e = error(
                Command.EMBED,
                List.of("--input", "i", "--output", "o", "--conf", "spark.attnspark.normalize="),
                Map.of());
        assertTrue(e.contains("spark.attnspark.normalize (from --conf) needs a value"), e);
        e = error(Command.EMBED, List.of("--input", "i", "--output", "o", "--conf", "novalue"), Map.of());
        assertTrue(e.contains("option --conf: 'novalue' is not KEY=VALUE"), e);
    }

    @Test
    void otherCommandsKeysAreIgnoredAndListed() {
        Settings s = resolve(
                Command.EMBED,
                List.of("--input", "i", "--output", "o"),
                Map.of("spark.attnspark.per-token", "true", "spark.attnspark.pooling", "cls"));
        assertEquals("cls", s.spec().model().pooling());
        assertTrue(s.describe().contains("ignored spark.attnspark.per-token (from the JVM's Spark conf"), s.describe());
    }

    @Test
    void usageComesFromTheTable() {
        for (Command c : Command.values()) {
            String usage = JobSpec.usage(c);
            for (JobOption o : JobSpec.OPTIONS) {
                assertEquals(
                        o.appliesTo(c),
                        usage.contains("  --" + o.name() + " ") || usage.contains("  --" + o.name() + "\n"),
                        c + " usage and --" + o.name());
            }
        }
        assertTrue(JobSpec.usage(Command.EMBED).contains("token budget of one forward batch (default: 8192)"));
        assertTrue(JobSpec.usage(Command.SCORE).contains("causal LM directory"));
    }

    @Test
    void printConfigThroughTheCliExitsWithoutRunning() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = JobRunner.main(
                Command.SCORE,
                new String[] {
                    "--input",
                    "does-not-exist.jsonl",
                    "--output",
                    "o",
                    "--model",
                    "m",
                    "--conf",
                    "spark.attnspark.per-token=true",
                    "--print-config"
                },
                new PrintStream(out),
                new PrintStream(err));
        assertEquals(JobRunner.EXIT_OK, code, err.toString());
        assertLine(out.toString(), "per-token", "true", "spark.attnspark.per-token (from --conf)");
        assertLine(out.toString(), "input", "does-not-exist.jsonl", "command line");
    }
}
