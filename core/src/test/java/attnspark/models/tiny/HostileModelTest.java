package attnspark.models.tiny;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import attnspark.api.EmbeddingResult;
import attnspark.api.ModelOptions;
import attnspark.api.ScoreResult;
import attnspark.api.TextScorer;
import attnspark.checkpoint.BundledModel;
import attnspark.checkpoint.CheckpointException;
import attnspark.load.Models;
import attnspark.models.HfConfig;
import attnspark.models.bert.BertModel;
import attnspark.models.llama.LlamaModel;
import attnspark.testutil.Shared;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * A corpus of hostile and broken model directories, generated here on top of tiny
 * checkpoints: FIFOs and links to /dev/zero where weights or config belong, config.json sizes
 * that wrap, truncate, lie or break the family's rules, NaN/Inf weights, a model larger than
 * the heap (a sparse file), and thousands of unexpected tensors. Each must fail with the
 * expected exception type, naming the file and the field or tensor; the timeout is a hang
 * guard (a FIFO blocks forever, /dev/zero reads forever), not a speed assertion.
 */
class HostileModelTest {
    private static final Duration HANG_GUARD = Duration.ofSeconds(30);

    @TempDir
    Path tmp;

    /** Runs {@code load} under the hang guard; it must throw {@code type} with every part in its message. */
    static <T extends Throwable> T fails(Class<T> type, Executable load, String... parts) {
        T e = assertTimeoutPreemptively(HANG_GUARD, () -> assertThrows(type, load));
        String m = e.getMessage();
        for (String p : parts) assertTrue(m != null && m.contains(p), "message should mention '" + p + "': " + m);
        assertTrue(m.length() < 2000 && !m.contains("\n"), "one short line: " + m);
        return e;
    }

    Path llama(String name, Consumer<Map<String, Object>> editConfig) throws IOException {
        TinyCheckpoint ck = TinyCheckpoint.llama(TinyLlamaTest.base(), "F32", name.hashCode());
        editConfig.accept(ck.config);
        return ck.write(tmp.resolve(name));
    }

    static Executable score(Path dir) {
        return () -> Models.loadScorer(ModelOptions.defaults().withModelDir(dir.toString()));
    }

    static Executable embed(Path dir) {
        return () -> Models.loadEmbedder(ModelOptions.defaults().withModelDir(dir.toString()));
    }

    static void mkfifo(Path p) throws Exception {
        Process proc = new ProcessBuilder("mkfifo", p.toString()).inheritIO().start();
        assertEquals(0, proc.waitFor(), "mkfifo " + p);
    }

    // ---------------------------------------------------------------- rule 1: only regular files, bounded reads

    @Test
    void safetensorsFifoByExactName() throws Exception {
        Path dir = llama("fifo", c -> {});
        Files.delete(dir.resolve("model.safetensors"));
        mkfifo(dir.resolve("model.safetensors"));
        fails(
                CheckpointException.class,
                score(dir),
                dir.resolve("model.safetensors").toString(),
                "not a regular file");
    }

    @Test
    void safetensorsFifoFoundByGlob() throws Exception {
        Path dir = llama("fifoglob", c -> {});
        Files.delete(dir.resolve("model.safetensors"));
        mkfifo(dir.resolve("weights.safetensors"));
        fails(
                CheckpointException.class,
                score(dir),
                dir.resolve("weights.safetensors").toString(),
                "not a regular file");
    }

    @Test
    void onnxFifoByNameAndByGlob() throws Exception {
        Path named = Files.createDirectories(tmp.resolve("onnxfifo"));
        mkfifo(named.resolve("model.onnx"));
        fails(
                CheckpointException.class,
                embed(named),
                named.resolve("model.onnx").toString(),
                "not a regular file");
        Path globbed = Files.createDirectories(tmp.resolve("onnxglob"));
        mkfifo(globbed.resolve("export.onnx"));
        fails(
                CheckpointException.class,
                embed(globbed),
                globbed.resolve("export.onnx").toString(),
                "not a regular file");
    }

    @Test
    void linksToDevZeroAreNotRead() throws Exception {
        Path onnx = Files.createDirectories(tmp.resolve("onnxzero"));
        Files.createSymbolicLink(onnx.resolve("model.onnx"), Path.of("/dev/zero"));
        fails(CheckpointException.class, embed(onnx), onnx.resolve("model.onnx").toString(), "not a regular file");

        Path st = llama("stzero", c -> {});
        Files.delete(st.resolve("model.safetensors"));
        Files.createSymbolicLink(st.resolve("model.safetensors"), Path.of("/dev/zero"));
        fails(
                CheckpointException.class,
                score(st),
                st.resolve("model.safetensors").toString(),
                "not a regular file");

        Path cfg = llama("cfgzero", c -> {});
        Files.delete(cfg.resolve("config.json"));
        Files.createSymbolicLink(cfg.resolve("config.json"), Path.of("/dev/zero"));
        fails(CheckpointException.class, score(cfg), cfg.resolve("config.json").toString(), "not a regular file");
    }

    /** stories260K's config and weights (linked) with a tokenizer.json made by {@code makeTokenizer}. */
    Path storiesWithTokenizer(String name, ThrowingConsumer<Path> makeTokenizer) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        for (String f : List.of("config.json", "model.safetensors")) {
            Files.createSymbolicLink(
                    dir.resolve(f), Shared.stories260k().resolve(f).toAbsolutePath());
        }
        makeTokenizer.accept(dir.resolve("tokenizer.json"));
        return dir;
    }

    interface ThrowingConsumer<T> {
        void accept(T t) throws Exception;
    }

    @Test
    void tokenizerThatIsAFifoADeviceOrHugeIsNotRead() throws Exception {
        Path fifo = storiesWithTokenizer("tokfifo", HostileModelTest::mkfifo);
        fails(
                CheckpointException.class,
                score(fifo),
                fifo.resolve("tokenizer.json").toString(),
                "not a regular file");
        Path zero = storiesWithTokenizer("tokzero", t -> Files.createSymbolicLink(t, Path.of("/dev/zero")));
        fails(
                CheckpointException.class,
                score(zero),
                zero.resolve("tokenizer.json").toString(),
                "not a regular file");
        Path huge = storiesWithTokenizer("tokhuge", t -> {
            try (RandomAccessFile f = new RandomAccessFile(t.toFile(), "rw")) {
                f.setLength(3L << 30); // sparse: 3 GiB on paper, nothing on disk
            }
        });
        fails(
                CheckpointException.class,
                score(huge),
                huge.resolve("tokenizer.json").toString(),
                "3221225472 bytes");
    }

    /** A tokenizer.json from another model (MiniLM's 30,522 ids on stories260K's 512-entry table) fails at load. */
    @Test
    void tokenizerFromAnotherModelFailsAtLoad() throws Exception {
        Path bundled = BundledModel.materialize();
        Path dir = storiesWithTokenizer("tokother", t -> Files.copy(bundled.resolve("tokenizer.json"), t));
        fails(
                IllegalArgumentException.class,
                score(dir),
                dir.resolve("tokenizer.json").toString(),
                "ids up to 30521",
                "vocab_size = 512");
    }

    /** The bundled MiniLM export (model.onnx + tokenizer.json, linked) plus one sentence-transformers file made here. */
    Path miniLmWith(String name, String file, ThrowingConsumer<Path> make) throws Exception {
        Path bundled = BundledModel.materialize();
        Path dir = Files.createDirectories(tmp.resolve(name));
        for (String f : List.of("model.onnx", "tokenizer.json")) {
            Files.createSymbolicLink(dir.resolve(f), bundled.resolve(f).toAbsolutePath());
        }
        make.accept(dir.resolve(file));
        return dir;
    }

    @Test
    void sentenceTransformersFilesAreCheckedLikeConfigJson() throws Exception {
        for (Object bad : List.of(-5, 0, 1e12, 12.5)) {
            Path dir = miniLmWith(
                    "stlen" + Math.abs(bad.hashCode()),
                    "sentence_bert_config.json",
                    f -> Files.writeString(f, "{\"max_seq_length\": " + bad + "}"));
            fails(
                    IllegalArgumentException.class,
                    embed(dir),
                    dir.resolve("sentence_bert_config.json").toString(),
                    "'max_seq_length'");
        }
        Path fifo = miniLmWith("stfifo", "modules.json", HostileModelTest::mkfifo);
        fails(
                CheckpointException.class,
                embed(fifo),
                fifo.resolve("modules.json").toString(),
                "not a regular file");
        Path broken = miniLmWith("stjson", "modules.json", f -> Files.writeString(f, "[{\"type\": "));
        fails(
                IllegalArgumentException.class,
                embed(broken),
                broken.resolve("modules.json").toString(),
                "not valid JSON");
        Path config = llama("cfgjson", c -> {});
        Files.writeString(config.resolve("config.json"), "{\"hidden_size\": \n  16,\n");
        fails(
                IllegalArgumentException.class,
                score(config),
                config.resolve("config.json").toString(),
                "not valid JSON",
                "line 3");
    }

    /** The model classes' own loaders run the same checks as Models: no way in skips them. */
    @Test
    void directLoadersRunThePreflightToo() throws Exception {
        Path dir = llama("directbillion", c -> c.put("num_hidden_layers", 1e9));
        fails(
                CheckpointException.class,
                () -> LlamaModel.fromPretrained(dir, "sdpa"),
                "'num_hidden_layers' = 1000000000",
                "holds 2 layers");
        TinyCheckpoint b = TinyCheckpoint.bert(new LinkedHashMap<>(TinyBertTest.base()), "", "F32", 5);
        b.config.put("intermediate_size", 12_000_000);
        Path bdir = b.write(tmp.resolve("directbert"));
        fails(
                CheckpointException.class,
                () -> BertModel.fromPretrained(HfConfig.read(bdir.resolve("config.json")), bdir, "sdpa"),
                "intermediate_size",
                "[12000000, 16]");
    }

    // ---------------------------------------------------------------- rule 2: config sizes exact, positive, consistent

    @Test
    void layerCountThatWrapsOrTruncatesIsRefused() throws Exception {
        Path wraps = llama("wraps", c -> c.put("num_hidden_layers", 4294967301L));
        fails(
                IllegalArgumentException.class,
                score(wraps),
                wraps.resolve("config.json").toString(),
                "'num_hidden_layers'",
                "4294967301",
                "out of range");
        Path fraction = llama("fraction", c -> c.put("num_hidden_layers", 5.9));
        fails(IllegalArgumentException.class, score(fraction), "'num_hidden_layers'", "5.9", "whole number");
    }

    @Test
    void layerCountBeyondTheCheckpointFailsBeforeAllocating() throws Exception {
        Path dir = llama("billion", c -> c.put("num_hidden_layers", 1e9));
        fails(
                CheckpointException.class,
                score(dir),
                "config.json",
                "'num_hidden_layers' = 1000000000",
                "holds 2 layers");
    }

    @Test
    void zeroAndNegativeCountsNameTheField() throws Exception {
        String[][] cases = {
            {"num_hidden_layers", "-1"},
            {"num_attention_heads", "0"},
            {"num_key_value_heads", "-4"},
            {"num_key_value_heads", "0"},
            {"hidden_size", "0"},
            {"intermediate_size", "-7"},
            {"vocab_size", "0"},
            {"head_dim", "0"},
            {"max_position_embeddings", "-1"}
        };
        for (String[] c : cases) {
            Path dir = llama("neg-" + c[0] + c[1], m -> m.put(c[0], Integer.parseInt(c[1])));
            fails(
                    IllegalArgumentException.class,
                    score(dir),
                    dir.resolve("config.json").toString(),
                    "'" + c[0] + "' = " + c[1],
                    ">= 1");
        }
    }

    @Test
    void inconsistentHeadsAndNonPositiveEps() throws Exception {
        Path kv = llama("kv3", c -> c.put("num_key_value_heads", 3));
        fails(
                IllegalArgumentException.class,
                score(kv),
                "'num_key_value_heads' = 3",
                "must divide num_attention_heads (4)");
        Path split = llama("split", c -> c.put("num_attention_heads", 3));
        fails(IllegalArgumentException.class, score(split), "'hidden_size' = 16", "num_attention_heads (3) x head_dim");
        Path eps = llama("eps", c -> c.put("rms_norm_eps", -1));
        fails(
                IllegalArgumentException.class,
                score(eps),
                eps.resolve("config.json").toString(),
                "'rms_norm_eps' = -1",
                "> 0");

        Map<String, Object> bert = new LinkedHashMap<>(TinyBertTest.base());
        TinyCheckpoint b = TinyCheckpoint.bert(bert, "", "F32", 3);
        b.config.put("num_attention_heads", 5);
        Path bdir = b.write(tmp.resolve("bert5"));
        fails(IllegalArgumentException.class, embed(bdir), "'hidden_size' = 16", "num_attention_heads (5) x head_dim");
        b.config.put("num_attention_heads", 4);
        b.config.put("layer_norm_eps", 0);
        b.write(bdir);
        fails(IllegalArgumentException.class, embed(bdir), "'layer_norm_eps' = 0", "> 0");
    }

    @Test
    void hugeSizesThatDisagreeWithTheTensorsFailBeforeAllocating() throws Exception {
        Path inter = llama("inter", c -> c.put("intermediate_size", 12_000_000));
        fails(
                CheckpointException.class,
                score(inter),
                "config.json",
                "intermediate_size",
                "model.layers.0.mlp.gate_proj.weight",
                "[12000000, 16]",
                "[40, 16]");
        Path headDim = llama("headdim", c -> c.put("head_dim", 2_000_000));
        fails(
                CheckpointException.class,
                score(headDim),
                "head_dim",
                "model.layers.0.self_attn.q_proj.weight",
                "[8000000, 16]");
    }

    // ---------------------------------------------------------------- rule 3: weights larger than the heap

    @Test
    void modelLargerThanTheHeapSaysWhatToRaise() throws Exception {
        // a self-consistent llama whose embedding and head are each 4 GiB as float32, in a sparse file
        int vocab = 524_288, hidden = 2048;
        Map<String, Object> c = new LinkedHashMap<>(TinyLlamaTest.base());
        c.put("vocab_size", vocab);
        c.put("hidden_size", hidden);
        c.put("intermediate_size", 8);
        c.put("num_hidden_layers", 1);
        c.put("num_attention_heads", 1);
        c.put("num_key_value_heads", 1);
        Map<String, int[]> tensors = new LinkedHashMap<>();
        tensors.put("model.embed_tokens.weight", new int[] {vocab, hidden});
        String p = "model.layers.0.";
        tensors.put(p + "input_layernorm.weight", new int[] {hidden});
        for (String n : new String[] {"q_proj", "k_proj", "v_proj", "o_proj"})
            tensors.put(p + "self_attn." + n + ".weight", new int[] {hidden, hidden});
        tensors.put(p + "post_attention_layernorm.weight", new int[] {hidden});
        tensors.put(p + "mlp.gate_proj.weight", new int[] {8, hidden});
        tensors.put(p + "mlp.up_proj.weight", new int[] {8, hidden});
        tensors.put(p + "mlp.down_proj.weight", new int[] {hidden, 8});
        tensors.put("model.norm.weight", new int[] {hidden});
        tensors.put("lm_head.weight", new int[] {vocab, hidden});
        Path dir = Files.createDirectories(tmp.resolve("huge"));
        Files.writeString(dir.resolve("config.json"), new ObjectMapper().writeValueAsString(c));
        writeSparseF32(dir.resolve("model.safetensors"), tensors);
        long need = 2L * vocab * hidden * 4;
        assertTrue(need > Runtime.getRuntime().maxMemory(), "the test needs weights larger than this heap");
        fails(
                CheckpointException.class,
                score(dir),
                dir.resolve("model.safetensors").toString(),
                "GiB as float32",
                "ATTNSPARK_JAVA_OPTS=-Xmx",
                "spark.executor.memory");
    }

    /** A safetensors file whose data section is a hole: the header is real, the bytes read as zeros and take no disk. */
    static void writeSparseF32(Path file, Map<String, int[]> tensors) throws IOException {
        StringBuilder h = new StringBuilder("{");
        long off = 0;
        for (Map.Entry<String, int[]> e : tensors.entrySet()) {
            long n = 4;
            StringBuilder shape = new StringBuilder();
            for (int d : e.getValue()) {
                n *= d;
                shape.append(shape.length() == 0 ? "" : ",").append(d);
            }
            h.append(h.length() == 1 ? "" : ",")
                    .append('"')
                    .append(e.getKey())
                    .append("\":{\"dtype\":\"F32\",\"shape\":[")
                    .append(shape)
                    .append("],\"data_offsets\":[")
                    .append(off)
                    .append(',')
                    .append(off + n)
                    .append("]}");
            off += n;
        }
        byte[] header = h.append('}').toString().getBytes(StandardCharsets.UTF_8);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.write(ByteBuffer.allocate(8)
                    .order(ByteOrder.LITTLE_ENDIAN)
                    .putLong(header.length)
                    .array());
            f.write(header);
            f.setLength(8 + header.length + off);
        }
    }

    // ---------------------------------------------------------------- rule 4: non-finite weights

    @Test
    void nanAndInfWeightsAreReportedAtLoadNamingTheTensor() throws Exception {
        TinyCheckpoint ck = TinyCheckpoint.llama(TinyLlamaTest.base(), "F32", 11);
        ck.values.get("model.layers.1.mlp.down_proj.weight")[5] = Double.NaN;
        Path dir = ck.write(tmp.resolve("nan"));
        fails(
                CheckpointException.class,
                score(dir),
                dir.resolve("model.safetensors").toString(),
                "model.layers.1.mlp.down_proj.weight",
                "non-finite",
                "NaN");

        TinyCheckpoint b = TinyCheckpoint.bert(TinyBertTest.base(), "", "F32", 12);
        b.values.get("embeddings.word_embeddings.weight")[0] = Double.NEGATIVE_INFINITY;
        Path bdir = b.write(tmp.resolve("inf"));
        fails(CheckpointException.class, embed(bdir), "embeddings.word_embeddings.weight", "-Infinity");
    }

    // ---------------------------------------------------------------- rule 5: long lists capped

    @Test
    void thousandsOfUnexpectedTensorsGiveOneShortLine() throws Exception {
        TinyCheckpoint ck = TinyCheckpoint.llama(TinyLlamaTest.base(), "F32", 13);
        for (int i = 0; i < 30_000; i++) ck.put("junk." + i, new double[0], 0);
        Path dir = ck.write(tmp.resolve("junk"));
        fails(CheckpointException.class, score(dir), "unexpected tensors", "junk.", "... and 29,990 more");
    }

    // ---------------------------------------------------------------- the good cases still load

    @Test
    void theGoodModelsStillLoadAndScoreFinite() {
        try (TextScorer scorer = assertTimeoutPreemptively(
                HANG_GUARD,
                () -> Models.loadScorer(ModelOptions.defaults()
                        .withModelDir(Shared.stories260k().toString())))) {
            ScoreResult r = scorer.score(List.of("Once upon a time, there was a little girl."), true)
                    .get(0);
            assertTrue(r.nTokens() > 5 && Double.isFinite(r.nll()) && r.nll() > 0, "stories260k scores: " + r);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void nonFiniteResultsAreErrorsNotValues() {
        ArithmeticException e = assertThrows(
                ArithmeticException.class, () -> new EmbeddingResult(new float[] {0.5f, Float.NaN, 1f}, 3, false));
        assertTrue(e.getMessage().contains("dimension 1 of 3 is NaN"), e.getMessage());
        e = assertThrows(
                ArithmeticException.class, () -> new ScoreResult(4, Double.NaN, Double.NaN, null, null, false));
        assertTrue(e.getMessage().contains("nll NaN"), e.getMessage());
        e = assertThrows(
                ArithmeticException.class,
                () -> new ScoreResult(2, 3.0, Math.exp(1.5), null, new float[] {-1f, Float.NEGATIVE_INFINITY}, false));
        assertTrue(e.getMessage().contains("token 1's log-prob is -Infinity"), e.getMessage());
        // no scored token: ppl is NaN by definition, which is not an error
        assertEquals(0, new ScoreResult(0, 0.0, Double.NaN, null, null, false).nTokens());
    }
}
