package attnspark.job;

import static attnspark.job.JobTesting.embedSpec;
import static org.junit.jupiter.api.Assertions.*;

import attnspark.attention.AttentionCapability;
import attnspark.attention.dispatch.AttentionInterface;
import attnspark.job.JobSpec.Command;
import attnspark.models.HfConfig;
import attnspark.models.SequenceBatch;
import attnspark.models.llama.LlamaModel;
import attnspark.tokenizer.TextTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every registered attention name through the CLI argument path (JobSpec.parse + JobRunner, as
 * scripts/attnspark runs them): embed with the bundled MiniLM and score with stories260K give
 * the same results as {@code eager} (cos >= 0.99999; per-token log-probs within 1e-4). The
 * names come from the registry itself, so a new backend is covered by registering it. Names
 * that need hardware this machine lacks must fail with a message saying so.
 */
class BackendCliParityTest {
    static SparkSession spark;
    static Path stories;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        stories = JobTesting.stories260k();
        spark = JobTesting.realModelSpark("backend-cli-parity");
    }

    @AfterAll
    static void stop() {
        JobTesting.stopRealModelSpark(spark);
    }

    /** Every name the build registers (AttentionInterface.BUILT_IN; test doubles other tests register are not backends). */
    static List<String> backendNames() {
        List<String> names = new ArrayList<>(AttentionInterface.BUILT_IN);
        names.sort(null);
        return names;
    }

    /** A name whose function declares no capability is registered only to explain what it needs (flash_attention_3). */
    static boolean unavailableHere(String name) {
        return AttentionInterface.ALL.get(name).capabilities().isEmpty();
    }

    static boolean paged(String name) {
        return AttentionInterface.ALL.get(name).capabilities().contains(AttentionCapability.PAGED);
    }

    /** The CLI refuses such a name up front, saying which hardware it needs. */
    static void assertRefusedForMissingHardware(String name, Runnable run) {
        UsageException e = assertThrows(UsageException.class, run::run, name + " needs hardware this machine lacks");
        assertTrue(e.getMessage().contains("needs an NVIDIA") && e.getMessage().contains(name), e.getMessage());
    }

    static Path write(String name, List<Map<String, String>> rows) throws Exception {
        ObjectMapper json = new ObjectMapper();
        StringBuilder sb = new StringBuilder();
        for (Map<String, String> r : rows) sb.append(json.writeValueAsString(r)).append('\n');
        Path p = tmp.resolve(name);
        Files.writeString(p, sb.toString());
        return p;
    }

    static Map<String, Row> run(Command c, Path in, String out, String... extra) {
        List<String> args = new ArrayList<>(List.of("--input", in.toString(), "--output", out, "--format", "jsonl"));
        args.addAll(List.of(extra));
        JobSpec spec = JobSpec.parse(c, args.toArray(String[]::new));
        JobSummary sum = JobRunner.run(spark, spec);
        Map<String, Row> m = new HashMap<>();
        for (Row r : JobRunner.readOutput(spark, spec).collectAsList()) m.put(r.getString(0), r);
        assertEquals(sum.rows(), m.size());
        return m;
    }

    /** Scores {@code in} per token with stories260K and the attention {@code attn}. */
    static Map<String, Row> score(Path in, String out, String attn, String... extra) {
        List<String> args = new ArrayList<>(List.of("--model", stories.toString(), "--attn", attn));
        args.addAll(List.of(extra));
        args.add("--per-token");
        return run(Command.SCORE, in, out, args.toArray(String[]::new));
    }

    @Test
    void embedGivesTheSameVectorsForEveryBackend() throws Exception {
        // different lengths in one batch (padding), unicode, a one-word text
        Path in = write(
                "embed.jsonl",
                List.of(
                        Map.of("id", "a", "text", "The quick brown fox jumps over the lazy dog near the river bank."),
                        Map.of("id", "b", "text", "Zürich — café, naïve résumé ✓"),
                        Map.of("id", "c", "text", "hello"),
                        Map.of("id", "d", "text", "Spark executors embed text corpora in batches of many tokens.")));
        Map<String, Row> ref = run(Command.EMBED, in, tmp.resolve("emb-eager").toString(), "--attn", "eager");
        int checked = 0;
        for (String name : backendNames()) {
            if (name.equals("eager") || paged(name)) continue;
            String out = tmp.resolve("emb-" + name.replace('|', '_')).toString();
            if (unavailableHere(name)) {
                assertRefusedForMissingHardware(name, () -> run(Command.EMBED, in, out, "--attn", name));
                continue;
            }
            Map<String, Row> got = run(Command.EMBED, in, out, "--attn", name);
            for (String id : ref.keySet()) {
                Row r = got.get(id);
                assertNull(r.getAs("error"), name + " " + id);
                double c = JobTesting.cos(ref.get(id).getList(1), r.getList(1));
                assertTrue(c >= 0.99999, name + " row " + id + ": cos " + c);
            }
            checked++;
        }
        assertTrue(checked >= 3, "sdpa, flex_attention and flash_attention_2 at least: " + backendNames());
        // paged names need a KV cache, which embedding has none of: refused before Spark starts
        for (String name : backendNames()) {
            if (!paged(name)) continue;
            UsageException e = assertThrows(UsageException.class, () -> embedSpec(in.toString(), "x", "--attn", name));
            assertTrue(
                    e.getMessage().contains("embed with '" + name.substring("paged|".length()) + "'"), e.getMessage());
        }
        UsageException e = assertThrows(UsageException.class, () -> embedSpec(in.toString(), "x", "--attn", "sdpaa"));
        assertTrue(e.getMessage().contains("flex_attention"), "lists the valid names: " + e.getMessage());
    }

    @Test
    void scoreGivesTheSameLogProbsForEveryBackendIncludingPaged() throws Exception {
        Path in = write(
                "score.jsonl",
                List.of(
                        Map.of("id", "once", "text", "Once upon a time"),
                        Map.of(
                                "id",
                                "dog",
                                "text",
                                "Lily had a little dog. The dog liked to run in the park with her every day."),
                        Map.of("id", "sun", "text", "The sun was hot. Tom wanted ice cream.")));
        Map<String, Row> ref = score(in, tmp.resolve("sc-eager").toString(), "eager");
        int checked = 0;
        for (String name : backendNames()) {
            if (name.equals("eager")) continue;
            String out = tmp.resolve("sc-" + name.replace('|', '_')).toString();
            if (unavailableHere(name)) {
                assertRefusedForMissingHardware(name, () -> score(in, out, name));
                continue;
            }
            Map<String, Row> got = score(in, out, name);
            for (String id : ref.keySet()) {
                Row want = ref.get(id), r = got.get(id);
                assertNull(r.getAs("error"), name + " " + id + ": " + r.getAs("error"));
                assertEquals(want.getInt(1), r.getInt(1), name + " " + id + " n_tokens");
                List<Float> a = want.getList(want.fieldIndex("token_logprobs")),
                        b = r.getList(r.fieldIndex("token_logprobs"));
                assertEquals(a.size(), b.size());
                for (int i = 0; i < a.size(); i++)
                    assertEquals(a.get(i), b.get(i), 1e-4, name + " " + id + " token " + i);
            }
            checked++;
        }
        assertTrue(
                checked >= 6,
                "sdpa, flex_attention, flash_attention_2 and their paged forms at least: " + backendNames());
    }

    @Test
    void windowedScoringReusesThePagedCache() throws Exception {
        // W = 32, S = 31: windows share only the token they need, so reusing cached keys/values
        // (paged|sdpa) gives the recompute recipe's numbers (sdpa), for a document of ~90 tokens and
        // one past the model's 512 positions (cached positions go on counting; RoPE sees only q - kv)
        Path in = write(
                "long.jsonl",
                List.of(
                        Map.of(
                                "id",
                                "long",
                                "text",
                                "Once upon a time there was a little girl named Lily. She loved to play outside in the sun. "
                                        + "One day she saw a big red ball in the park and she ran to get it. Her mom said be careful."),
                        Map.of(
                                "id",
                                "longer",
                                "text",
                                "Tom and his dog went to the park to play with a ball. ".repeat(50))));
        String[] windows = {"--window", "32", "--stride", "31"};
        Map<String, Row> recompute = score(in, tmp.resolve("w-sdpa").toString(), "sdpa", windows);
        Map<String, Row> reuse = score(in, tmp.resolve("w-paged").toString(), "paged|sdpa", windows);
        assertTrue(
                recompute.get("longer").getInt(1) > 512,
                "longer than the model's context: " + recompute.get("longer").getInt(1));
        for (String id : List.of("long", "longer")) {
            Row a = recompute.get(id), b = reuse.get(id);
            assertNull(a.getAs("error"), id);
            assertNull(b.getAs("error"), id);
            assertTrue(a.getInt(1) > 32, "the document is longer than one window: " + a.getInt(1));
            assertEquals(a.getInt(1), b.getInt(1));
            List<Float> la = a.getList(a.fieldIndex("token_logprobs")), lb = b.getList(b.fieldIndex("token_logprobs"));
            for (int i = 0; i < la.size(); i++) assertEquals(la.get(i), lb.get(i), 1e-4, id + " token " + i);
        }
    }

    /**
     * embed --model <llama dir> --bidirectional: the decoder with is_causal=false, mean-pooled and
     * L2-normalised, equals the same computed here from LlamaModel with a bidirectional config;
     * and it is not the causal model's embedding.
     */
    @Test
    void llamaEmbedsBidirectionallyThroughTheCli() throws Exception {
        List<String> texts = List.of("Once upon a time there was a cat.", "The dog ran to the park with Tom.");
        Path in = write(
                "llama-embed.jsonl",
                List.of(Map.of("id", "0", "text", texts.get(0)), Map.of("id", "1", "text", texts.get(1))));
        Map<String, Row> got = run(
                Command.EMBED,
                in,
                tmp.resolve("llama-bi").toString(),
                "--model",
                stories.toString(),
                "--bidirectional",
                "--attn",
                "sdpa");
        HfConfig cfg = HfConfig.read(stories.resolve("config.json")).with("is_causal", false);
        LlamaModel bi = LlamaModel.fromPretrained(cfg, stories, "eager");
        LlamaModel causal = LlamaModel.fromPretrained(stories, "eager");
        try (TextTokenizer tok = new TextTokenizer(stories.resolve("tokenizer.json"), 512)) {
            for (int r = 0; r < texts.size(); r++) {
                int[] ids = tok.encode(texts.get(r)).ids();
                List<Float> want = meanNormalized(
                        bi.forward(new SequenceBatch(new int[][] {ids}), Map.of()), ids.length, bi.hiddenSize());
                List<Float> notThis = meanNormalized(
                        causal.forward(new SequenceBatch(new int[][] {ids}), Map.of()), ids.length, bi.hiddenSize());
                Row row = got.get(String.valueOf(r));
                assertNull(row.getAs("error"));
                double c = JobTesting.cos(want, row.getList(1));
                assertTrue(c >= 0.99999, "row " + r + ": cos " + c);
                assertTrue(JobTesting.cos(notThis, row.getList(1)) < 0.9999, "bidirectional differs from causal");
            }
        }
    }

    /** Mean over rows of (n, D), then L2 normalisation: the reference pooling. */
    static List<Float> meanNormalized(float[] hidden, int n, int D) {
        double[] m = new double[D];
        for (int t = 0; t < n; t++) for (int d = 0; d < D; d++) m[d] += hidden[t * D + d] / n;
        double norm = 0;
        for (double x : m) norm += x * x;
        List<Float> out = new ArrayList<>();
        for (double x : m) out.add((float) (x / Math.sqrt(norm)));
        return out;
    }
}
