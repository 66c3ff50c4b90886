package attnspark.bench;

import attnspark.models.HfConfig;
import attnspark.models.Weights;
import attnspark.models.bert.BertModel;
import attnspark.models.llama.LlamaModel;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The model shapes the benchmarks time, with random weights, and their flop counts (one
 * multiply-add = 2 flops; matmuls and attention only: norms, RoPE and activations are O(T·D)).
 */
final class Shapes {
    private Shapes() {}

    /** Llama-3.2-1B (config.json of meta-llama/Llama-3.2-1B) with {@code layers} layers and {@code vocab} tokens. */
    static Map<String, Object> llama1b(int layers, int vocab) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("model_type", "llama");
        c.put("vocab_size", vocab);
        c.put("hidden_size", 2048);
        c.put("intermediate_size", 8192);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", 32);
        c.put("num_key_value_heads", 8);
        c.put("head_dim", 64);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 500000.0);
        c.put(
                "rope_scaling",
                Map.of(
                        "rope_type",
                        "llama3",
                        "factor",
                        32.0,
                        "low_freq_factor",
                        1.0,
                        "high_freq_factor",
                        4.0,
                        "original_max_position_embeddings",
                        8192));
        c.put("tie_word_embeddings", true);
        c.put("max_position_embeddings", 131072);
        c.put("hidden_act", "silu");
        return c;
    }

    /** all-MiniLM-L6-v2 (BertModel, hidden 384, 12 heads, FFN 1536) with {@code layers} layers. */
    static Map<String, Object> miniLm(int layers) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("model_type", "bert");
        c.put("vocab_size", 30522);
        c.put("hidden_size", 384);
        c.put("intermediate_size", 1536);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", 12);
        c.put("max_position_embeddings", 512);
        c.put("layer_norm_eps", 1e-12);
        c.put("hidden_act", "gelu");
        return c;
    }

    static LlamaModel llama(Map<String, Object> config, String attn) {
        HfConfig hf = new HfConfig(config, "llama-1b-shapes");
        LlamaModel.Config c = LlamaModel.Config.from(hf);
        RandomCheckpoint ck = RandomCheckpoint.llama(
                c.vocabSize(), c.hidden(), c.intermediate(), c.layers(), c.heads(), c.kvHeads(), c.headDim(), 1);
        return new LlamaModel(c, new Weights(ck, ""), attn);
    }

    static BertModel bert(Map<String, Object> config, String attn) {
        BertModel.Config c = BertModel.Config.from(new HfConfig(config, "minilm-shapes"));
        RandomCheckpoint ck =
                RandomCheckpoint.bert(c.vocabSize(), c.hidden(), c.intermediate(), c.layers(), c.maxPositions(), 1);
        return new BertModel(c, new Weights(ck, ""), attn);
    }

    /** One decoder layer over one causal sequence of S tokens. */
    static double decoderLayerFlops(LlamaModel.Config c, int S) {
        double linear = 2.0
                * S
                * c.hidden()
                * ((c.heads() + 2.0 * c.kvHeads()) * c.headDim() // q|k|v
                        + c.heads() * c.headDim() // o
                        + 3.0 * c.intermediate()); // gate|up, down
        double attention = 4.0 * c.heads() * c.headDim() * (S * (S + 1) / 2.0); // q·k and p·v over the causal half
        return linear + attention;
    }

    /** The tied head over S rows: (S, D) x (D, V). */
    static double lmHeadFlops(LlamaModel.Config c, int S) {
        return 2.0 * S * c.hidden() * c.vocabSize();
    }

    /** One encoder layer over B sequences of S tokens (bidirectional). */
    static double encoderLayerFlops(BertModel.Config c, int B, int S) {
        double D = c.hidden();
        double linear = 2.0 * B * S * (4 * D * D + 2 * D * c.intermediate());
        double attention = 4.0 * B * S * S * D;
        return linear + attention;
    }
}
