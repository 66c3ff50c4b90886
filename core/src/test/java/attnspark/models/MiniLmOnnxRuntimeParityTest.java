package attnspark.models;

import static org.junit.jupiter.api.Assertions.*;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import attnspark.api.EmbeddingResult;
import attnspark.api.ModelOptions;
import attnspark.api.TextEmbedder;
import attnspark.checkpoint.BundledModel;
import attnspark.load.Models;
import attnspark.tokenizer.TextTokenizer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The bundled all-MiniLM-L6-v2, imported from its ONNX graph into our BertModel, against
 * ONNX Runtime running that same file; pooling and L2 are done here, plainly, on ORT's output.
 */
class MiniLmOnnxRuntimeParityTest {
    static final List<String> TEXTS = List.of(
            "Hello world",
            "",
            "The quick brown fox jumps over the lazy dog.",
            "Ünïcödé façade naïve café — “quotes” and ½ fractions, 東京タワー, Привет мир",
            "Emoji are tokens too 🚀🔥👩‍👩‍👧‍👦 and so are symbols ∑∫√",
            "a ".repeat(400) + "long text that must be truncated at 256 tokens",
            "Short.",
            "Spark executors run one model replica each, batched by token budget.");
    static OrtEnvironment env;
    static OrtSession session;
    static Path dir;

    @BeforeAll
    static void setUp() throws Exception {
        dir = BundledModel.materialize();
        env = OrtEnvironment.getEnvironment();
        session = env.createSession(dir.resolve("model.onnx").toString(), new OrtSession.SessionOptions());
    }

    @AfterAll
    static void tearDown() throws Exception {
        session.close();
    }

    /** ORT's last hidden state (L, 384) for one sequence. */
    static float[][] ortHidden(int[] ids) throws Exception {
        long[] in = new long[ids.length], mask = new long[ids.length], types = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            in[i] = ids[i];
            mask[i] = 1;
        }
        long[] shape = {1, ids.length};
        try (OnnxTensor a = OnnxTensor.createTensor(env, LongBuffer.wrap(in), shape);
                OnnxTensor b = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
                OnnxTensor c = OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape);
                OrtSession.Result r = session.run(Map.of("input_ids", a, "attention_mask", b, "token_type_ids", c))) {
            return ((float[][][]) r.get(0).getValue())[0];
        }
    }

    @Test
    void anOnnxExportDirectoryWithoutConfigLoadsWithInferredConfigAndChosenPooling(@TempDir Path tmp) throws Exception {
        // what a user passes as --model DIR: model.onnx + tokenizer.json, nothing else
        Files.createSymbolicLink(
                tmp.resolve("model.onnx"), dir.resolve("model.onnx").toAbsolutePath());
        Files.createSymbolicLink(
                tmp.resolve("tokenizer.json"), dir.resolve("tokenizer.json").toAbsolutePath());
        List<String> texts = List.of("A man is playing a guitar.", "Two dogs run through the snow 🐕🐕");
        try (TextEmbedder cls = Models.loadEmbedder(ModelOptions.defaults()
                        .withModelDir(tmp.toString())
                        .withPooling("cls")
                        .withNormalize(false));
                TextEmbedder last = Models.loadEmbedder(ModelOptions.defaults()
                        .withModelDir(tmp.toString())
                        .withPooling("last")
                        .withNormalize(false));
                TextTokenizer tok = new TextTokenizer(dir.resolve("tokenizer.json"), 512)) {
            List<EmbeddingResult> c = cls.embed(texts), l = last.embed(texts);
            for (int i = 0; i < texts.size(); i++) {
                float[][] h = ortHidden(tok.encode(texts.get(i)).ids());
                for (int d = 0; d < 384; d++) {
                    assertEquals(h[0][d], c.get(i).vector()[d], 1e-4, "cls text " + i + " dim " + d);
                    assertEquals(h[h.length - 1][d], l.get(i).vector()[d], 1e-4, "last text " + i + " dim " + d);
                }
            }
        }
    }

    /** Mean pooling and L2 written plainly over ORT's hidden states. */
    static float[] ortEmbedding(int[] ids) throws Exception {
        float[][] h = ortHidden(ids);
        float[] v = new float[h[0].length];
        for (float[] row : h) for (int d = 0; d < v.length; d++) v[d] += row[d] / ids.length;
        double n = 0;
        for (float x : v) n += x * x;
        n = Math.sqrt(n);
        for (int d = 0; d < v.length; d++) v[d] /= n;
        return v;
    }

    @Test
    void tokenizerGivesKnownBertIdsAndTruncatesAt256() {
        try (TextTokenizer tok = new TextTokenizer(dir.resolve("tokenizer.json"), 256)) {
            assertArrayEquals(
                    new int[] {101, 7592, 2088, 102}, tok.encode("Hello world").ids());
            assertArrayEquals(new int[] {101, 102}, tok.encode("").ids());
            TextTokenizer.Tokens longOne = tok.encode("a ".repeat(400));
            assertEquals(256, longOne.ids().length);
            assertTrue(longOne.truncated());
            assertEquals(102, longOne.ids()[255]);
            assertFalse(tok.encode("Short.").truncated());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"eager", "sdpa"})
    void embeddingsMatchOnnxRuntime(String attn) throws Exception {
        try (TextEmbedder e = Models.loadEmbedder(
                        ModelOptions.defaults().withAttn(attn).withBatchTokens(600));
                TextTokenizer tok = new TextTokenizer(dir.resolve("tokenizer.json"), 256)) {
            assertEquals(384, e.dimension());
            List<EmbeddingResult> got = e.embed(TEXTS); // several per batch: exercises padding
            for (int i = 0; i < TEXTS.size(); i++) {
                int[] ids = tok.encode(TEXTS.get(i)).ids();
                float[] want = ortEmbedding(ids);
                float[] v = got.get(i).vector();
                double cos = 0, maxAbs = 0;
                for (int d = 0; d < v.length; d++) {
                    cos += v[d] * want[d];
                    maxAbs = Math.max(maxAbs, Math.abs(v[d] - want[d]));
                }
                assertEquals(ids.length, got.get(i).nTokens());
                assertTrue(cos >= 0.99999, attn + " text " + i + ": cos " + cos);
                assertTrue(maxAbs <= 1e-4, attn + " text " + i + ": max |Δ| " + maxAbs);
            }
            assertTrue(got.get(5).truncated());
            assertFalse(got.get(0).truncated());
        }
    }
}
