package attnspark.attention;

/**
 * A materialised 4-D mask (B, 1, Sq, Skv), true = attend: what {@code sdpa_mask} returns.
 * One head dimension only: every head shares it, as in HF.
 */
public record BooleanMask(boolean[] data, int batch, int qLength, int kvLength) implements AttentionMask {
    public boolean get(int b, int q, int kv) {
        return data[(b * qLength + q) * kvLength + kv];
    }

    /** True when some query row can attend to nothing (left padding in a causal model). */
    public boolean hasEmptyRow() {
        for (int r = 0; r < batch * qLength; r++) {
            boolean any = false;
            for (int kv = 0; kv < kvLength && !any; kv++) any = data[r * kvLength + kv];
            if (!any) return true;
        }
        return false;
    }

    @Override
    public String describe() {
        return "BooleanMask (" + batch + ", 1, " + qLength + ", " + kvLength + ")";
    }
}
