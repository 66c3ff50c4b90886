package attnspark.bench;

import attnspark.checkpoint.Checkpoint;
import attnspark.tensor.FloatTensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Random weights under HF tensor names, for timing at real shapes without a real checkpoint:
 * matrices uniform with variance 1/fan_in (activations keep unit scale through the layers),
 * embeddings with std 0.02 (HF's initializer_range, so tied-head logits stay O(1)), norm
 * weights 1, biases 0. A tensor's values depend only on its name and the seed, and are made when read.
 */
public final class RandomCheckpoint implements Checkpoint {
    private final Map<String, int[]> shapes = new LinkedHashMap<>();
    private final long seed;

    public RandomCheckpoint(long seed) {
        this.seed = seed;
    }

    public RandomCheckpoint add(String name, int... shape) {
        shapes.put(name, shape.clone());
        return this;
    }

    /** Llama-family tensors (modeling_llama names), tied head. */
    public static RandomCheckpoint llama(
            int vocab, int hidden, int intermediate, int layers, int heads, int kvHeads, int headDim, long seed) {
        RandomCheckpoint c = new RandomCheckpoint(seed);
        c.add("model.embed_tokens.weight", vocab, hidden).add("model.norm.weight", hidden);
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            c.add(p + "input_layernorm.weight", hidden)
                    .add(p + "post_attention_layernorm.weight", hidden)
                    .add(p + "self_attn.q_proj.weight", heads * headDim, hidden)
                    .add(p + "self_attn.k_proj.weight", kvHeads * headDim, hidden)
                    .add(p + "self_attn.v_proj.weight", kvHeads * headDim, hidden)
                    .add(p + "self_attn.o_proj.weight", hidden, heads * headDim)
                    .add(p + "mlp.gate_proj.weight", intermediate, hidden)
                    .add(p + "mlp.up_proj.weight", intermediate, hidden)
                    .add(p + "mlp.down_proj.weight", hidden, intermediate);
        }
        return c;
    }

    /** BERT tensors (modeling_bert names). */
    public static RandomCheckpoint bert(
            int vocab, int hidden, int intermediate, int layers, int maxPositions, long seed) {
        RandomCheckpoint c = new RandomCheckpoint(seed);
        c.add("embeddings.word_embeddings.weight", vocab, hidden)
                .add("embeddings.position_embeddings.weight", maxPositions, hidden)
                .add("embeddings.token_type_embeddings.weight", 2, hidden)
                .add("embeddings.LayerNorm.weight", hidden)
                .add("embeddings.LayerNorm.bias", hidden);
        for (int l = 0; l < layers; l++) {
            String p = "encoder.layer." + l + ".";
            for (String n : new String[] {
                "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"
            }) {
                c.add(p + n + ".weight", hidden, hidden).add(p + n + ".bias", hidden);
            }
            c.add(p + "intermediate.dense.weight", intermediate, hidden)
                    .add(p + "intermediate.dense.bias", intermediate)
                    .add(p + "output.dense.weight", hidden, intermediate)
                    .add(p + "output.dense.bias", hidden);
            for (String n : new String[] {"attention.output.LayerNorm", "output.LayerNorm"}) {
                c.add(p + n + ".weight", hidden).add(p + n + ".bias", hidden);
            }
        }
        return c;
    }

    @Override
    public String source() {
        return "random(seed " + seed + ")";
    }

    @Override
    public Set<String> names() {
        return shapes.keySet();
    }

    @Override
    public int[] shape(String name) {
        int[] s = shapes.get(name);
        if (s == null) throw new IllegalArgumentException(source() + ": no tensor " + name);
        return s.clone();
    }

    @Override
    public FloatTensor tensor(String name) {
        int[] shape = shape(name);
        float[] v = new float[Math.toIntExact(FloatTensor.numel(shape))];
        if (shape.length == 1) {
            if (name.endsWith(".weight")) Arrays.fill(v, 1f); // norm gains; biases stay 0
        } else {
            SplittableRandom r = new SplittableRandom(seed * 31 + name.hashCode());
            double std = name.contains("embed") ? 0.02 : 1.0 / Math.sqrt(shape[1]);
            float a = (float) (std * Math.sqrt(3.0)) * 0x1p-31f; // uniform(-a, a) has variance std²
            for (int i = 0; i < v.length; i++) v[i] = r.nextInt() * a;
        }
        return new FloatTensor(v, shape);
    }
}
