package attnspark.load;

import attnspark.checkpoint.CheckpointException;
import attnspark.checkpoint.OnnxCheckpoint;
import attnspark.models.HfConfig;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A BERT config for an ONNX export that came without config.json: sizes from the tensor
 * shapes, the head count from the graph's reshape constants.
 */
final class OnnxConfigInference {
    private OnnxConfigInference() {}

    static HfConfig infer(Path onnx, Path dir) {
        try (OnnxCheckpoint ck = OnnxCheckpoint.open(onnx)) {
            String src = onnx.toString();
            int[] word = shape(ck, "embeddings.word_embeddings.weight", src);
            int[] pos = shape(ck, "embeddings.position_embeddings.weight", src);
            int[] type = ck.names().contains("embeddings.token_type_embeddings.weight")
                    ? ck.shape("embeddings.token_type_embeddings.weight")
                    : new int[] {2, word[1]};
            int layers = 0;
            while (ck.names().contains("encoder.layer." + layers + ".attention.self.query.weight")) layers++;
            int[] inter = shape(ck, "encoder.layer.0.intermediate.dense.weight", src);
            int hidden = word[1];
            // every width must agree with the embedding's, else the head search below would be blamed for a lying
            // tensor
            int[] query = shape(ck, "encoder.layer.0.attention.self.query.weight", src);
            int[][] widths = {pos, query, inter};
            String[] names = {
                "embeddings.position_embeddings.weight",
                "encoder.layer.0.attention.self.query.weight",
                "encoder.layer.0.intermediate.dense.weight"
            };
            for (int i = 0; i < names.length; i++) {
                if (widths[i].length != 2 || widths[i][1] != hidden) {
                    throw new CheckpointException(
                            src + ": tensor 'embeddings.word_embeddings.weight' " + Arrays.toString(word)
                                    + " says hidden size " + hidden + " but tensor '" + names[i] + "' has shape "
                                    + Arrays.toString(widths[i])
                                    + "; the export is inconsistent (or put a config.json beside it).");
                }
            }
            int heads = ck.attentionHeads(hidden);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("model_type", "bert");
            m.put("vocab_size", word[0]);
            m.put("hidden_size", hidden);
            m.put("num_hidden_layers", layers);
            m.put("num_attention_heads", heads);
            m.put("intermediate_size", inter[0]);
            m.put("max_position_embeddings", pos[0]);
            m.put("type_vocab_size", type[0]);
            m.put("layer_norm_eps", 1e-12);
            m.put("hidden_act", "gelu");
            return new HfConfig(
                    m, src + " (config inferred from the ONNX graph; put a config.json beside it to override)");
        } catch (Exception e) {
            if (e instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e);
        }
    }

    private static int[] shape(OnnxCheckpoint ck, String name, String src) {
        if (!ck.names().contains(name)) {
            throw new IllegalArgumentException(
                    src + ": no tensor '" + name + "'; not a BERT-family export? Put a config.json beside it");
        }
        return ck.shape(name);
    }
}
