package attnspark.models;

import attnspark.tensor.FloatTensor;
import java.util.Map;

/**
 * HF rotate_half RoPE: pair (i, i + d/2) of each head turns by pos·invFreq[i].
 * rope_scaling types: default, linear (positions / factor), llama3 (per-wavelength
 * frequency blend of Llama 3.1).
 */
public final class RotaryEmbedding {
    private final int headDim;
    private final double[] invFreq; // (headDim/2)

    public RotaryEmbedding(int headDim, double theta, Map<String, Object> ropeScaling) {
        if (headDim % 2 != 0) throw new IllegalArgumentException("RoPE needs an even head_dim, got " + headDim);
        this.headDim = headDim;
        int half = headDim / 2;
        invFreq = new double[half];
        for (int i = 0; i < half; i++) invFreq[i] = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
        String type = ropeScaling == null
                ? "default"
                : String.valueOf(ropeScaling.getOrDefault("rope_type", ropeScaling.getOrDefault("type", "default")));
        switch (type) {
            case "default" -> {}
            case "linear" -> {
                double factor = num(ropeScaling, "factor");
                for (int i = 0; i < half; i++) invFreq[i] /= factor;
            }
            case "llama3" -> {
                double factor = num(ropeScaling, "factor");
                double low = num(ropeScaling, "low_freq_factor");
                double high = num(ropeScaling, "high_freq_factor");
                double oldCtx = num(ropeScaling, "original_max_position_embeddings");
                double lowWavelen = oldCtx / low, highWavelen = oldCtx / high;
                for (int i = 0; i < half; i++) {
                    double wavelen = 2 * Math.PI / invFreq[i];
                    if (wavelen > lowWavelen) {
                        invFreq[i] = invFreq[i] / factor;
                    } else if (wavelen >= highWavelen) { // medium band: blend
                        double smooth = (oldCtx / wavelen - low) / (high - low);
                        invFreq[i] = (1 - smooth) * invFreq[i] / factor + smooth * invFreq[i];
                    }
                }
            }
            default ->
                throw new IllegalArgumentException(
                        "rope_scaling type '" + type + "' is not supported; supported: default, linear, llama3");
        }
    }

    private static double num(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (!(v instanceof Number n))
            throw new IllegalArgumentException("rope_scaling needs a numeric '" + key + "', got " + v);
        return n.doubleValue();
    }

    /** cos/sin for positions first..last, built once per forward: (positions, headDim/2) each. */
    public record Table(float[] cos, float[] sin, int half, int first) {}

    public Table table(int maxPosition) {
        return table(0, maxPosition);
    }

    /** Only the positions a forward uses: a step deep into a long cached document stays O(step). */
    public Table table(int first, int last) {
        int half = headDim / 2, n = last - first + 1;
        float[] cos = new float[n * half], sin = new float[n * half];
        for (int p = first; p <= last; p++) {
            for (int i = 0; i < half; i++) {
                // float32 angle, as HF computes inv_freq @ position_ids in float32
                float angle = (float) p * (float) invFreq[i];
                cos[(p - first) * half + i] = (float) Math.cos(angle);
                sin[(p - first) * half + i] = (float) Math.sin(angle);
            }
        }
        return new Table(cos, sin, half, first);
    }

    /** Rotates x (B, H, S, headDim) in place; positions (B, S). */
    public static void apply(FloatTensor x, int[][] positions, Table t) {
        int B = x.dim(0), H = x.dim(1), S = x.dim(2), D = x.dim(3), half = t.half();
        float[] d = x.data;
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < H; h++) {
                for (int s = 0; s < S; s++) {
                    int o = ((b * H + h) * S + s) * D;
                    int p = (positions[b][s] - t.first()) * half;
                    for (int i = 0; i < half; i++) {
                        float a = d[o + i], c = d[o + i + half];
                        d[o + i] = a * t.cos()[p + i] - c * t.sin()[p + i];
                        d[o + i + half] = c * t.cos()[p + i] + a * t.sin()[p + i];
                    }
                }
            }
        }
    }
}
