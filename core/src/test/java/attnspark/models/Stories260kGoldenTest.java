package attnspark.models;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.models.llama.LlamaModel;
import attnspark.testutil.Shared;
import attnspark.tokenizer.TextTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The real trained stories260K Llama (GQA 8/4 heads) against the float64 golden files in
 * ../shared: full log-softmax rows, tokenization, and the published greedy story.
 */
class Stories260kGoldenTest {
    static Path dir;
    static List<JsonNode> prompts = new ArrayList<>();
    static float[] golden; // (255, 512)

    @BeforeAll
    static void load() throws IOException {
        dir = Shared.stories260k();
        ObjectMapper om = new ObjectMapper();
        for (String line : Files.readAllLines(dir.resolve("golden/prompts.jsonl"))) {
            if (!line.isBlank()) prompts.add(om.readTree(line));
        }
        ByteBuffer bb = ByteBuffer.wrap(Files.readAllBytes(dir.resolve("golden/logprobs.f32")))
                .order(ByteOrder.LITTLE_ENDIAN);
        golden = new float[bb.remaining() / 4];
        bb.asFloatBuffer().get(golden);
    }

    static LlamaModel model(String attn) {
        return LlamaModel.fromPretrained(dir, attn);
    }

    static int[] ints(JsonNode arr) {
        int[] r = new int[arr.size()];
        for (int i = 0; i < r.length; i++) r[i] = arr.get(i).asInt();
        return r;
    }

    @ParameterizedTest
    @ValueSource(strings = {"eager", "sdpa"})
    void everyLogProbMatchesGoldenInOneBatch(String attn) {
        LlamaModel m = model(attn);
        int[][] ids = new int[prompts.size()][];
        for (int p = 0; p < ids.length; p++) ids[p] = ints(prompts.get(p).get("ids"));
        SequenceBatch batch = new SequenceBatch(ids); // different lengths: right padding + mask
        float[] lp = Shared.logSoftmaxRows(m, batch);
        double maxErr = 0;
        for (int p = 0; p < ids.length; p++) {
            int rowOffset = prompts.get(p).get("row_offset").asInt();
            for (int i = 0; i < ids[p].length; i++) {
                for (int v = 0; v < 512; v++) {
                    double err = Math.abs(lp[(batch.offsets[p] + i) * 512 + v] - golden[(rowOffset + i) * 512 + v]);
                    maxErr = Math.max(maxErr, err);
                }
            }
        }
        assertTrue(maxErr <= 1e-4, attn + ": max |Δ log p| = " + maxErr);
    }

    @Test
    void tokenizerMatchesGoldenIds() {
        try (TextTokenizer tok = new TextTokenizer(dir.resolve("tokenizer.json"), 512)) {
            for (JsonNode p : prompts) {
                assertArrayEquals(
                        ints(p.get("ids")),
                        tok.encode(p.get("text").asText()).ids(),
                        p.get("name").asText());
            }
        }
    }

    @Test
    void teacherForcedArgmaxReproducesThePublishedStory() throws IOException {
        JsonNode story = new ObjectMapper()
                .readTree(dir.resolve("golden/published_story.json").toFile());
        int[] greedy = ints(story.get("greedy_ids"));
        int[] seq = new int[greedy.length];
        seq[0] = 1;
        System.arraycopy(greedy, 0, seq, 1, greedy.length - 1);
        LlamaModel m = model("sdpa");
        float[] lp = Shared.logSoftmaxRows(m, new SequenceBatch(new int[][] {seq}));
        for (int i = 0; i < greedy.length; i++) {
            int best = 0;
            for (int v = 1; v < 512; v++) if (lp[i * 512 + v] > lp[i * 512 + best]) best = v;
            assertEquals(greedy[i], best, "position " + i);
        }
        try (TextTokenizer tok = new TextTokenizer(dir.resolve("tokenizer.json"), 512)) {
            assertEquals(story.get("text").asText(), tok.decode(greedy));
        }
    }

    @Test
    void greedyContinuationsOfEveryPromptMatch() {
        LlamaModel m = model("sdpa");
        for (JsonNode p : prompts) {
            int[] ids = ints(p.get("ids")), greedy = ints(p.get("greedy_ids"));
            int[] seq = new int[ids.length + greedy.length - 1];
            System.arraycopy(ids, 0, seq, 0, ids.length);
            System.arraycopy(greedy, 0, seq, ids.length, greedy.length - 1);
            float[] lp = Shared.logSoftmaxRows(m, new SequenceBatch(new int[][] {seq}));
            for (int g = 0; g < greedy.length; g++) {
                int row = ids.length - 1 + g, best = 0;
                for (int v = 1; v < 512; v++) if (lp[row * 512 + v] > lp[row * 512 + best]) best = v;
                assertEquals(greedy[g], best, p.get("name").asText() + " step " + g);
            }
        }
    }

    @Test
    void slidingWindowLayersFromConfig() {
        int[] ids = ints(prompts.get(prompts.size() - 1).get("ids"));
        SequenceBatch batch = new SequenceBatch(new int[][] {ids});
        float[] full = Shared.logSoftmaxRows(model("sdpa"), batch);
        HfConfig base = HfConfig.read(dir.resolve("config.json"));
        // a window covering the whole prompt changes nothing. The two runs take different SDPA kernels
        // (no mask -> FLASH_ATTENTION tiles; materialised window mask -> EFFICIENT_ATTENTION rows), so
        // they agree up to float summation order: relative 1e-5 (log p reaches -25 here)
        float[] wide = Shared.logSoftmaxRows(
                LlamaModel.fromPretrained(base.with("sliding_window", ids.length), dir, "sdpa"), batch);
        for (int i = 0; i < full.length; i++) assertEquals(full[i], wide[i], 1e-5 * Math.max(1, Math.abs(full[i])));
        // a narrow window: eager and sdpa agree, and the first w positions are untouched
        int w = 3;
        float[] e =
                Shared.logSoftmaxRows(LlamaModel.fromPretrained(base.with("sliding_window", w), dir, "eager"), batch);
        float[] s =
                Shared.logSoftmaxRows(LlamaModel.fromPretrained(base.with("sliding_window", w), dir, "sdpa"), batch);
        double diffLater = 0;
        for (int i = 0; i < e.length; i++) {
            assertEquals(e[i], s[i], 1e-4);
            // the same two SDPA kernels as above: relative 1e-5
            if (i < w * 512) assertEquals(full[i], s[i], 1e-5 * Math.max(1, Math.abs(full[i])));
            else diffLater = Math.max(diffLater, Math.abs(full[i] - s[i]));
        }
        assertTrue(diffLater > 1e-2, "a 3-token window must change later positions, max diff " + diffLater);
        // layer_types mixes full and sliding layers
        List<Object> types =
                List.of("full_attention", "sliding_attention", "full_attention", "sliding_attention", "full_attention");
        float[] mixed = Shared.logSoftmaxRows(
                LlamaModel.fromPretrained(base.with("sliding_window", w).with("layer_types", types), dir, "eager"),
                batch);
        float[] mixedSdpa = Shared.logSoftmaxRows(
                LlamaModel.fromPretrained(base.with("sliding_window", w).with("layer_types", types), dir, "sdpa"),
                batch);
        for (int i = 0; i < e.length; i++) assertEquals(mixed[i], mixedSdpa[i], 1e-4);
        IllegalArgumentException bad = assertThrows(
                IllegalArgumentException.class,
                () -> LlamaModel.fromPretrained(base.with("layer_types", types), dir, "sdpa"));
        assertTrue(bad.getMessage().contains("sliding_window is not set"), bad.getMessage());
    }
}
