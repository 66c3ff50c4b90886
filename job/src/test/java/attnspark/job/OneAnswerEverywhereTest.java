package attnspark.job;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.api.EmbeddingResult;
import attnspark.api.ModelOptions;
import attnspark.api.ScoreResult;
import attnspark.api.ScoringMode;
import attnspark.api.TextEmbedder;
import attnspark.api.TextScorer;
import attnspark.job.JobSpec.Command;
import attnspark.load.Models;
import attnspark.udf.EmbedText;
import attnspark.udf.ModelReplicas;
import attnspark.udf.OutputSchemas;
import attnspark.udf.ScoreText;
import attnspark.udf.ml.TextEmbedderTransformer;
import attnspark.udf.ml.TextScorerTransformer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One answer everywhere: for the same held-out rows (20 STS-B test sentences no other job, UDF
 * or transformer test reads, an empty text and a null), the CLI job (in process, JSON lines
 * output), the SQL UDFs {@link EmbedText}/{@link ScoreText} registered with
 * {@code registerJava}, the ML transformers after a {@link PipelineModel} save/load and the
 * in-process API ({@link Models}) give bit-identical vectors and identical scores: the bundled
 * all-MiniLM-L6-v2 embeds, stories260K scores. A pipeline loaded by a separate program gives
 * the rows of the pipeline that was saved. Each surface
 * batches differently (the job and the transformers a partition per call, the UDFs one text,
 * the API all texts at once); the engine is batch-invariant, so exact equality is the test.
 */
class OneAnswerEverywhereTest {
    /** Data lines of sts-test.csv read here (pairs: sentence 1 and 2 of each). */
    static final int FIRST_PAIR = 1000, PAIRS = 10;

    static final String EMPTY = "empty-text", NULL = "null-text";

    static SparkSession spark;
    static Path stories;
    /** id -> text, in input order (the null-text row maps to null). */
    static final Map<String, String> TEXTS = new LinkedHashMap<>();

    static Dataset<Row> input;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() throws Exception {
        Path shared = JobTesting.sharedDir();
        stories = shared.resolve("models/stories260k");
        List<String> lines = Files.readAllLines(shared.resolve("data/stsb/sts-test.csv"));
        for (int i = FIRST_PAIR; i < FIRST_PAIR + PAIRS; i++) {
            String[] f = lines.get(i).split("\t");
            TEXTS.put("sts-" + i + "a", f[5]);
            TEXTS.put("sts-" + i + "b", f[6]);
        }
        TEXTS.put(EMPTY, "");
        TEXTS.put(NULL, null);
        ModelReplicas.setFactoryForTests(null); // the real Models
        spark = JobTesting.localSpark("one-answer-everywhere");
        List<Row> rows = new ArrayList<>();
        TEXTS.forEach((id, text) -> rows.add(RowFactory.create(id, text)));
        input = spark.createDataFrame(
                rows, new StructType().add("id", DataTypes.StringType).add("text", DataTypes.StringType));
        input.createOrReplaceTempView("held_out");
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
        ModelReplicas.closeAll();
    }

    /** The CLI job's rows by id, run in process on this session from command-line arguments, JSON lines out. */
    static Map<String, Row> cli(String run, Command command, StructType schema, String... options) throws Exception {
        Path in = tmp.resolve(run + "-in");
        input.write().json(in.toString()); // part-*.json: the job reads JSON lines
        String out = tmp.resolve(run + "-out").toString();
        List<String> args = new ArrayList<>(List.of("--input", in.toString(), "--output", out, "--format", "jsonl"));
        args.addAll(List.of(options));
        JobSpec spec = JobSpec.parse(command, args.toArray(new String[0]));
        assertEquals(TEXTS.size(), JobRunner.run(spark, spec).rows());
        return byId(spark.read().schema(schema).json(out));
    }

    static Map<String, Row> byId(Dataset<Row> rows) {
        Map<String, Row> m = new HashMap<>();
        for (Row r : rows.collectAsList()) {
            m.put(r.getString(r.fieldIndex("id")), r);
        }
        assertEquals(TEXTS.keySet(), m.keySet());
        return m;
    }

    static float[] floats(Row r, String column) {
        List<Float> v = r.getList(r.fieldIndex(column));
        float[] out = new float[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i);
        }
        return out;
    }

    /** {@code stages} fitted as a pipeline on the held-out rows, saved to {@code dir} and loaded back. */
    static PipelineModel savedAndLoaded(Path dir, PipelineStage... stages) throws Exception {
        new Pipeline().setStages(stages).fit(input).write().overwrite().save(dir.toString());
        return PipelineModel.load(dir.toString());
    }

    /** The pipeline saved in {@code pipelineDir}, loaded and run by another JVM (PipelineRoundTripMain), its output read back. */
    static Map<String, Row> inSeparateJvm(Path pipelineDir) throws Exception {
        Path in = tmp.resolve("pipeline-in.parquet");
        input.write().parquet(in.toString());
        Path out = tmp.resolve("pipeline-out");
        Path log = tmp.resolve("pipeline-jvm.log");
        List<String> cmd = new ArrayList<>(
                List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx2g"));
        cmd.addAll(ConfConsistencyTest.opens());
        cmd.addAll(List.of(
                "-cp",
                System.getProperty("java.class.path"),
                PipelineRoundTripMain.class.getName(),
                pipelineDir.toString(),
                in.toString(),
                out.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1"); // loopback only
        Process p = pb.start();
        assertTrue(p.waitFor(240, TimeUnit.SECONDS), "the pipeline JVM hung; its log: " + log);
        assertEquals(0, p.exitValue(), () -> "the pipeline JVM failed: " + readQuietly(log));
        return byId(spark.read().parquet(out.toString()));
    }

    static String readQuietly(Path log) {
        try {
            String s = Files.readString(log);
            return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
        } catch (Exception e) {
            return "(no log: " + e + ")";
        }
    }

    @Test
    void cliUdfTransformerAndApiAgree() throws Exception {
        // the CLI
        Map<String, Row> cliEmbed = cli("embed", Command.EMBED, OutputSchemas.embed());
        Map<String, Row> cliScore =
                cli("score", Command.SCORE, OutputSchemas.score(false), "--model", stories.toString());

        // the UDFs, as PySpark's registerJavaFunction registers them: settings from the session conf at registration
        registerScoreText("score", Map.of("spark.attnspark.model", stories.toString()));
        spark.udf().registerJava("embed", EmbedText.class.getName(), EmbedText.RETURN_TYPE); // the bundled MiniLM
        Map<String, Row> udf =
                byId(spark.sql("SELECT id, embed(text) AS embedding, score(text) AS score FROM held_out"));

        // the transformers, after a PipelineModel save and load
        Map<String, Row> transformed = byId(savedAndLoaded(
                        tmp.resolve("pipeline"),
                        new TextEmbedderTransformer().setIdCol("id").setErrorCol("embed_error"),
                        new TextScorerTransformer()
                                .setModel(stories.toString())
                                .setIdCol("id")
                                .setErrorCol("score_error"))
                .transform(input));

        // the in-process API
        List<String> texts = TEXTS.values().stream().filter(t -> t != null).toList();
        List<EmbeddingResult> apiEmbed;
        List<ScoreResult> apiScore;
        try (TextEmbedder e = Models.loadEmbedder(ModelOptions.defaults());
                TextScorer s = Models.loadScorer(ModelOptions.defaults().withModelDir(stories.toString()))) {
            apiEmbed = e.embed(texts);
            apiScore = s.score(texts, false);
        }

        int k = 0;
        for (Map.Entry<String, String> t : TEXTS.entrySet()) {
            String id = t.getKey();
            Row cliE = cliEmbed.get(id);
            if (t.getValue() == null) {
                assertEquals("row null-text: column 'text' is null", cliE.getAs("error"));
                assertEquals(cliE.getAs("error"), (String) transformed.get(id).getAs("embed_error"));
                assertTrue(udf.get(id).isNullAt(1), "null text: the UDF returns null");
                continue;
            }
            assertNull(cliE.getAs("error"), id);
            float[] expected = floats(cliE, "embedding");
            assertEquals(384, expected.length);
            assertArrayEquals(expected, apiEmbed.get(k).vector(), "API vs CLI, " + id);
            assertArrayEquals(expected, floats(udf.get(id), "embedding"), "UDF vs CLI, " + id);
            assertArrayEquals(expected, floats(transformed.get(id), "embedding"), "transformer vs CLI, " + id);
            k++;
        }
        assertEquals(TEXTS.size() - 1, k);
        assertSameScores(cliScore, udf, transformed, "score_error", apiScore);
        assertEquals(0, (int) cliScore.get(EMPTY).getAs("n_tokens"), "empty text scores no token");
    }

    /** The window/stride options reach every surface: sliding-window scores agree, and differ from full-context ones. */
    @Test
    void windowedScoresAgree() throws Exception {
        windowedScoresAgree(
                "score-window",
                ScoringMode.HF_STRIDED,
                8,
                4,
                new TextScorerTransformer().setWindow(8, 4),
                List.of("--window", "8", "--stride", "4"),
                Map.of("spark.attnspark.window", "8", "spark.attnspark.stride", "4"));
    }

    /** --mode lm-eval-rolling reaches every surface too (the transformer's mode Param, the UDF's spark.attnspark.mode). */
    @Test
    void lmEvalRollingScoresAgree() throws Exception {
        windowedScoresAgree(
                "score-rolling",
                ScoringMode.LM_EVAL_ROLLING,
                8,
                0,
                new TextScorerTransformer().setMode("lm-eval-rolling").setWindow(8, 0),
                List.of("--mode", "lm-eval-rolling", "--window", "8"),
                Map.of("spark.attnspark.mode", "lm-eval-rolling", "spark.attnspark.window", "8"));
    }

    private void windowedScoresAgree(
            String name,
            ScoringMode mode,
            int window,
            int stride,
            TextScorerTransformer t,
            List<String> cliOptions,
            Map<String, String> conf)
            throws Exception {
        List<String> args = new ArrayList<>(List.of("--model", stories.toString()));
        args.addAll(cliOptions);
        Map<String, Row> cliScore = cli(name, Command.SCORE, OutputSchemas.score(false), args.toArray(String[]::new));
        Map<String, String> udfConf = new HashMap<>(conf);
        udfConf.put("spark.attnspark.model", stories.toString());
        String udfName = name.replace('-', '_');
        registerScoreText(udfName, udfConf);
        Map<String, Row> udf = byId(spark.sql("SELECT id, " + udfName + "(text) AS score FROM held_out"));
        Map<String, Row> transformed =
                byId(t.setModel(stories.toString()).setIdCol("id").transform(input));
        List<String> texts = TEXTS.values().stream().filter(x -> x != null).toList();
        List<ScoreResult> api, fullContext;
        ModelOptions o = ModelOptions.defaults().withModelDir(stories.toString());
        try (TextScorer windowed = Models.loadScorer(o.withScoring(mode, window, stride));
                TextScorer full = Models.loadScorer(o)) {
            api = windowed.score(texts, false);
            fullContext = full.score(texts, false);
        }
        assertSameScores(cliScore, udf, transformed, "error", api);
        long differ = 0;
        for (int i = 0; i < texts.size(); i++) {
            differ += api.get(i).nll() != fullContext.get(i).nll() ? 1 : 0;
        }
        assertTrue(differ > 0, "an 8-token window changes the nll of the longer sentences");
    }

    /** Registers ScoreText as PySpark's registerJavaFunction would, with {@code conf} set on the session meanwhile. */
    static void registerScoreText(String name, Map<String, String> conf) {
        conf.forEach((k, v) -> spark.conf().set(k, v));
        try {
            spark.udf().registerJava(name, ScoreText.class.getName(), new ScoreText().returnType());
        } finally {
            conf.keySet().forEach(k -> spark.conf().unset(k)); // the options stay with the registered UDF
        }
    }

    /**
     * Every score column (as OutputSchemas declares them) of the CLI's rows equals the UDF's
     * struct ({@code score}) and the transformer's ({@code score}, errors in {@code errorCol}),
     * and the API's results for the non-null texts, in input order.
     */
    static void assertSameScores(
            Map<String, Row> cli,
            Map<String, Row> udf,
            Map<String, Row> transformed,
            String errorCol,
            List<ScoreResult> api) {
        StructType scoreType = TextScorerTransformer.scoreType(false);
        int k = 0;
        for (Map.Entry<String, String> t : TEXTS.entrySet()) {
            String id = t.getKey();
            Row want = cli.get(id), tr = transformed.get(id), u = udf.get(id);
            if (t.getValue() == null) {
                assertEquals("row null-text: column 'text' is null", want.getAs("error"));
                assertEquals(want.getAs("error"), (String) tr.getAs(errorCol));
                assertTrue(u.isNullAt(u.fieldIndex("score")), "null text: the UDF returns null");
                continue;
            }
            assertNull(want.getAs("error"), id);
            ScoreResult a = api.get(k++);
            assertEquals(a.nTokens(), (int) want.getAs("n_tokens"), id);
            assertEquals(a.nll(), (double) want.getAs("nll"), "API vs CLI nll, " + id);
            assertEquals(a.ppl(), (double) want.getAs("ppl"), "API vs CLI ppl, " + id);
            assertEquals(a.truncated(), (boolean) want.getAs("truncated"), id);
            Row udfScore = u.getStruct(u.fieldIndex("score"));
            Row trScore = tr.getStruct(tr.fieldIndex("score"));
            assertNull(udfScore.getAs("error"), id);
            for (StructField f : scoreType.fields()) {
                Object expected = want.get(want.fieldIndex(f.name()));
                assertEquals(
                        expected, udfScore.get(udfScore.fieldIndex(f.name())), "UDF vs CLI " + f.name() + ", " + id);
                assertEquals(
                        expected,
                        trScore.get(trScore.fieldIndex(f.name())),
                        "transformer vs CLI " + f.name() + ", " + id);
            }
        }
        assertEquals(TEXTS.size() - 1, k);
    }

    /**
     * A pipeline saved here is loaded and run by a separate program (nothing of this JVM
     * around) and gives the same rows as the pipeline that was saved. Both stages run
     * stories260K (the embedder mean-pools the decoder), to keep the second JVM's model loads small.
     */
    @Test
    void pipelineLoadedByAnotherProgramGivesTheSameRows() throws Exception {
        Path dir = tmp.resolve("pipeline-for-another-jvm");
        PipelineStage[] stages = {
            new TextEmbedderTransformer()
                    .setModel(stories.toString())
                    .setPooling("mean")
                    .setIdCol("id")
                    .setErrorCol("embed_error"),
            new TextScorerTransformer()
                    .setModel(stories.toString())
                    .setMaxLength(64)
                    .setIdCol("id")
                    .setErrorCol("score_error")
        };
        Map<String, Row> original =
                byId(new Pipeline().setStages(stages).fit(input).transform(input));
        savedAndLoaded(dir, stages);
        Map<String, Row> otherJvm = inSeparateJvm(dir);
        for (String id : TEXTS.keySet()) {
            Row want = original.get(id), got = otherJvm.get(id);
            // names only: Parquet reads array<float> back as containsNull=true
            assertArrayEquals(want.schema().fieldNames(), got.schema().fieldNames());
            for (int c = 0; c < want.size(); c++) {
                if (want.schema().fields()[c].name().equals("embedding") && !want.isNullAt(c)) {
                    assertArrayEquals(floats(want, "embedding"), floats(got, "embedding"), id);
                } else {
                    assertEquals(
                            want.get(c),
                            got.get(c),
                            id + " " + want.schema().fields()[c].name());
                }
            }
        }
        assertEquals("row null-text: column 'text' is null", otherJvm.get(NULL).getAs("score_error"));
        assertFalse(otherJvm.get("sts-1000a").isNullAt(otherJvm.get("sts-1000a").fieldIndex("embedding")));
    }
}
