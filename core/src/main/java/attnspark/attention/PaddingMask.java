package attnspark.attention;

/**
 * A 2-D padding mask (B, Skv), true = real token: what HF's {@code flash_attention_mask} hands to
 * the flash kernels, which unpad each row and do causality and windows themselves.
 */
public record PaddingMask(boolean[][] realTokens) implements AttentionMask {
    public int batch() {
        return realTokens.length;
    }

    @Override
    public String describe() {
        return "PaddingMask (" + realTokens.length + ", " + (realTokens.length == 0 ? 0 : realTokens[0].length) + ")";
    }
}
