package attnspark.attention;

/**
 * A mask as a mask formatter hands it to the attention function registered under the same name
 * (HF's {@code AttentionMaskInterface} -> {@code AttentionInterface}). Each backend takes only
 * some forms; given another it fails naming the form and itself ({@link #unsupported}).
 * "No mask" is {@code null}, as HF's {@code None}: the backend then uses its own causal or
 * bidirectional path.
 * <ul>
 *   <li>{@link BooleanMask}: dense (B, 1, Sq, Skv), true = attend (HF {@code sdpa_mask});</li>
 *   <li>{@link AdditiveMask}: dense (B, 1, Sq, Skv) of 0 / float min added to the scores (HF {@code eager_mask});</li>
 *   <li>{@link PaddingMask}: (B, Skv) true = real token, nothing about causality (HF {@code flash_attention_mask});</li>
 *   <li>{@link BlockMask}: flex attention's block-sparse mask (HF {@code flex_attention_mask}).</li>
 * </ul>
 */
public sealed interface AttentionMask permits BooleanMask, AdditiveMask, PaddingMask, BlockMask {

    /** The form and shape, for error messages, e.g. "BooleanMask (2, 1, 5, 5)". */
    String describe();

    /** The error a backend raises for a form it cannot take. */
    static IllegalArgumentException unsupported(String backend, AttentionMask mask, String takes) {
        return new IllegalArgumentException(backend + " cannot take a " + mask.describe() + "; it takes " + takes
                + ". Build masks with Masks.create*(MaskInputs.of(\"" + backend + "\", ...)) so the formatter"
                + " registered under the same name produces the right form.");
    }
}
