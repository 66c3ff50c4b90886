package attnspark.models;

import attnspark.models.llama.LlamaModel;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A test-only composite, the shape of HF's Llava-style models: a text_config and a
 * vision_config sub-model, each with its own backend. Both parts are stories260K (the vision
 * part bidirectional, as an encoder would be); forward returns text then vision hidden states.
 */
final class TextVisionTestModel extends AttentionModel {
    final LlamaModel text, vision;

    TextVisionTestModel(LlamaModel text, LlamaModel vision, String attn) {
        super(attn);
        this.text = text;
        this.vision = vision;
        setAttnImplementation(attn); // HF: a str reaches every sub-config
    }

    @Override
    public Map<String, AttentionModel> subModels() {
        Map<String, AttentionModel> m = new LinkedHashMap<>();
        if (text != null) m.put("text_config", text); // null only while the super constructor runs
        if (vision != null) m.put("vision_config", vision);
        return m;
    }

    @Override
    public float[] forward(SequenceBatch batch, Map<String, Object> kwargs) {
        float[] t = text.forward(batch, kwargs), v = vision.forward(batch, kwargs);
        float[] out = new float[t.length + v.length];
        System.arraycopy(t, 0, out, 0, t.length);
        System.arraycopy(v, 0, out, t.length, v.length);
        return out;
    }

    @Override
    public int hiddenSize() {
        return text.hiddenSize();
    }

    @Override
    public int maxPositions() {
        return text.maxPositions();
    }
}
