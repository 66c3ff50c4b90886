package attnspark.attention.dispatch;

import attnspark.attention.MaskFormats;
import attnspark.attention.MaskFormatter;
import attnspark.attention.flash.FlashAttention2;
import attnspark.attention.flex.FlexMasks;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Name -> mask formatter, as HF's {@code AttentionMaskInterface}. A backend name without a
 * formatter here receives a null mask (HF: "the mask is set to None, i.e. completely
 * ignored"); such a backend must handle causality and padding itself.
 */
public final class AttentionMaskInterface extends GeneralInterface<MaskFormatter> {
    private static final Map<String, MaskFormatter> GLOBAL = newGlobal(defaults());

    private static Map<String, MaskFormatter> defaults() {
        Map<String, MaskFormatter> m = new LinkedHashMap<>();
        m.put(AttentionInterface.SDPA, MaskFormats.SDPA);
        m.put(AttentionInterface.EAGER, MaskFormats.EAGER);
        m.put("flex_attention", FlexMasks::flexAttentionMask);
        m.put(FlashAttention2.NAME, FlashAttention2::flashAttentionMask);
        m.put("flash_attention_3", FlashAttention2::flashAttentionMask);
        return m;
    }

    public static final AttentionMaskInterface ALL = new AttentionMaskInterface();

    public AttentionMaskInterface() {
        super(GLOBAL);
    }

    public static void register(String name, MaskFormatter formatter) {
        GLOBAL.put(name, formatter);
    }
}
