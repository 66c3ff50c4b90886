package attnspark.attention;

import static attnspark.attention.AttentionCapability.*;

import attnspark.tensor.FloatTensor;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * HF's {@code eager_attention_forward}, written plainly: the oracle every other backend is
 * tested against. Materialises repeat_kv and the full (B, H, Sq, Skv) weights on purpose.
 * kwargs with HF's model-specific eager extras: {@code softcap} (Number, gemma2:
 * {@code softcap*tanh(s/softcap)} on the scaled scores, before the mask) and {@code s_aux}
 * (float[] or FloatTensor of H sink logits, gpt-oss: an extra last column per row that takes
 * part in the max and the softmax and is dropped afterwards, so the kept weights sum to &lt; 1).
 */
public final class EagerAttention implements AttentionFunction {
    public static final String NAME = "eager";

    @Override
    public Set<AttentionCapability> capabilities() {
        return EnumSet.of(MASKED, PACKED, SLIDING_WINDOW, CHUNKED, SOFTCAP, SINKS);
    }

    @Override
    public AttentionOutput apply(
            AttentionModule module,
            FloatTensor query,
            FloatTensor key,
            FloatTensor value,
            AttentionMask mask,
            Map<String, Object> kwargs) {
        int B = query.dim(0), H = query.dim(1), Sq = query.dim(2), D = query.dim(3);
        int Skv = key.dim(2), Dv = value.dim(3);
        float scaling = AttentionKwargs.scaling(module, kwargs);
        FloatTensor k = repeatKv(key, module.numKeyValueGroups()); // (B, H, Skv, D)
        FloatTensor v = repeatKv(value, module.numKeyValueGroups()); // (B, H, Skv, Dv)
        AdditiveMask additive = Attention.additiveMask(NAME, mask); // (B|1, 1, Sq, >=Skv) or null
        float softcap = AttentionKwargs.softcap(kwargs);
        float[] sinks = AttentionKwargs.sinks(kwargs, H);

        float[] w = new float[B * H * Sq * Skv]; // (B, H, Sq, Skv)
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < H; h++) {
                for (int i = 0; i < Sq; i++) {
                    int row = ((b * H + h) * Sq + i) * Skv;
                    for (int j = 0; j < Skv; j++) {
                        double dot = 0;
                        for (int d = 0; d < D; d++) {
                            dot += query.data[((b * H + h) * Sq + i) * D + d] * k.data[((b * H + h) * Skv + j) * D + d];
                        }
                        float s = (float) dot * scaling;
                        if (softcap != 0f) s = softcap * (float) Math.tanh(s / softcap);
                        if (additive != null) s += additive.get(b, i, j);
                        w[row + j] = s;
                    }
                    // softmax in float32 over the key axis
                    float sink = sinks == null ? Float.NEGATIVE_INFINITY : sinks[h]; // the extra column
                    float max = sink;
                    for (int j = 0; j < Skv; j++) max = Math.max(max, w[row + j]);
                    double sum = sinks == null ? 0 : Math.exp(sink - max);
                    for (int j = 0; j < Skv; j++) {
                        w[row + j] = (float) Math.exp(w[row + j] - max);
                        sum += w[row + j];
                    }
                    for (int j = 0; j < Skv; j++) w[row + j] = (float) (w[row + j] / sum);
                }
            }
        }
        float[] out = new float[B * Sq * H * Dv]; // (B, Sq, H, Dv)
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < H; h++) {
                for (int i = 0; i < Sq; i++) {
                    for (int d = 0; d < Dv; d++) {
                        double acc = 0;
                        for (int j = 0; j < Skv; j++) {
                            acc += w[((b * H + h) * Sq + i) * Skv + j] * v.data[((b * H + h) * Skv + j) * Dv + d];
                        }
                        out[((b * Sq + i) * H + h) * Dv + d] = (float) acc;
                    }
                }
            }
        }
        return new AttentionOutput(new FloatTensor(out, B, Sq, H, Dv), new FloatTensor(w, B, H, Sq, Skv));
    }

    /** HF repeat_kv: kv head j serves query heads j*groups .. j*groups+groups-1. */
    static FloatTensor repeatKv(FloatTensor x, int groups) {
        if (groups == 1) return x;
        int B = x.dim(0), Hkv = x.dim(1), S = x.dim(2), D = x.dim(3);
        float[] out = new float[B * Hkv * groups * S * D];
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < Hkv * groups; h++) {
                System.arraycopy(
                        x.data, ((b * Hkv + h / groups) * S) * D, out, ((b * Hkv * groups + h) * S) * D, S * D);
            }
        }
        return new FloatTensor(out, B, Hkv * groups, S, D);
    }
}
