package attnspark.models;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.models.bert.BertModel;
import attnspark.models.llama.LlamaModel;
import attnspark.testutil.Shared;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The config variants against goldens computed by reference/make_variant_goldens.py: a float64
 * numpy forward written from HF's modeling files that neither imports nor reads this project.
 * Each checkpoint (config.json + model.safetensors, random weights) loads through the normal
 * loader; both sequences run in one padded batch, under two backends.
 */
class VariantGoldensTest {
    private static final double TOL = 1e-4;

    /** reference/variants/NAME from the core module (where surefire runs) or the repository root. */
    static Path variant(String name) {
        for (Path root : new Path[] {Path.of(".."), Path.of(".")}) {
            Path d = root.resolve("reference/variants").resolve(name);
            if (Files.isDirectory(d)) return d;
        }
        throw new IllegalStateException("variant golden missing: reference/variants/" + name + " not found under "
                + Path.of("..").toAbsolutePath().normalize() + " or "
                + Path.of(".").toAbsolutePath().normalize()
                + "; regenerate with python3 reference/make_variant_goldens.py");
    }

    private static JsonNode golden(Path dir) throws IOException {
        return new ObjectMapper().readTree(dir.resolve("golden.json").toFile());
    }

    private static int[][] inputs(JsonNode g) {
        int[][] ids = new int[g.get("inputs").size()][];
        for (int b = 0; b < ids.length; b++) {
            JsonNode row = g.get("inputs").get(b);
            ids[b] = new int[row.size()];
            for (int i = 0; i < ids[b].length; i++) ids[b][i] = row.get(i).asInt();
        }
        return ids;
    }

    @ParameterizedTest(name = "{0} under {1}")
    @CsvSource({
        "llama-rope-llama3, eager",
        "llama-rope-llama3, sdpa",
        "llama-rope-linear, eager",
        "llama-rope-linear, sdpa",
        "mistral-sliding-window, eager",
        "mistral-sliding-window, sdpa",
        "mistral-sliding-window, flash_attention_2",
        "qwen2-window-layers, eager",
        "qwen2-window-layers, sdpa",
        "qwen2-window-layers, flex_attention",
        "qwen2-no-window, eager",
        "qwen2-no-window, sdpa",
        "llama-chunked-attention, eager",
        "llama-chunked-attention, sdpa",
        "llama-chunked-attention, flex_attention"
    })
    void decoderLogProbsMatchTheNumpyReference(String name, String attn) throws IOException {
        Path dir = variant(name);
        JsonNode g = golden(dir);
        int[][] ids = inputs(g);
        SequenceBatch batch = new SequenceBatch(ids);
        LlamaModel m = LlamaModel.fromPretrained(dir, attn);
        float[] lp = Shared.logSoftmaxRows(m, batch);
        int V = m.vocabSize();
        double worst = 0;
        for (int b = 0; b < ids.length; b++) {
            JsonNode rows = g.get("log_probs").get(b);
            assertEquals(ids[b].length, rows.size());
            for (int t = 0; t < ids[b].length; t++) {
                assertEquals(V, rows.get(t).size());
                for (int v = 0; v < V; v++) {
                    double want = rows.get(t).get(v).asDouble(), got = lp[(batch.offsets[b] + t) * V + v];
                    worst = Math.max(worst, Math.abs(want - got));
                    assertEquals(
                            want, got, TOL, name + " " + attn + ": sequence " + b + " position " + t + " token " + v);
                }
            }
        }
        assertTrue(worst > 0, "an exact match of float32 against float64 would mean the golden came from this code");
    }

    @ParameterizedTest(name = "{0} under {1}")
    @CsvSource({"bert, eager", "bert, sdpa", "roberta-position-offset, eager", "roberta-position-offset, sdpa"})
    void encoderHiddenStatesAndMeanPoolingMatchTheNumpyReference(String name, String attn) throws IOException {
        Path dir = variant(name);
        JsonNode g = golden(dir);
        int[][] ids = inputs(g);
        SequenceBatch batch = new SequenceBatch(ids);
        BertModel m = BertModel.fromPretrained(HfConfig.read(dir.resolve("config.json")), dir, attn);
        int D = m.hiddenSize();
        float[] hidden = m.forward(batch, Map.of());
        for (int b = 0; b < ids.length; b++) {
            JsonNode rows = g.get("last_hidden_state").get(b);
            for (int t = 0; t < ids[b].length; t++) {
                for (int d = 0; d < D; d++) {
                    assertEquals(
                            rows.get(t).get(d).asDouble(),
                            hidden[(batch.offsets[b] + t) * D + d],
                            TOL,
                            name + " " + attn + ": sequence " + b + " token " + t + " dim " + d);
                }
            }
            float[] pooled = Pooling.pool("mean", hidden, D, batch.offsets[b], ids[b].length, false);
            for (int d = 0; d < D; d++) {
                assertEquals(
                        g.get("mean_pooled").get(b).get(d).asDouble(),
                        pooled[d],
                        TOL,
                        name + " pooled " + b + " dim " + d);
            }
        }
    }
}
