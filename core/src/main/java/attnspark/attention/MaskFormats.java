package attnspark.attention;

/** The built-in formatters: HF's {@code sdpa_mask} and {@code eager_mask}. */
public final class MaskFormats {
    /** torch.finfo(float32).min: masked scores get it, not -inf, so an all-masked row stays finite. */
    public static final float MIN_VALUE = -Float.MAX_VALUE;

    /** {@link #sdpaMask} as the one formatter instance registered under "sdpa" (models compare against it). */
    public static final MaskFormatter SDPA = MaskFormats::sdpaMask;

    /** {@link #eagerMask} as the one formatter instance registered under "eager". */
    public static final MaskFormatter EAGER = MaskFormats::eagerMask;

    private MaskFormats() {}

    /** (B, 1, Sq, Skv) boolean, or null when SDPA's own causal/bidirectional path is exact. */
    public static BooleanMask sdpaMask(MaskFormatter.MaskRequest r) {
        boolean[][] padding = preparePaddingMask(r.paddingMask(), r.kvLength(), r.kvOffset());
        boolean paddingFree = allTrue(padding, r.kvOffset(), r.kvLength());
        boolean localFits = r.localSize() == null || r.kvLength() < r.localSize();
        if (r.allowIsCausalSkip() && (r.qLength() == 1 || r.kvLength() == r.qLength()) && localFits && paddingFree) {
            return null;
        }
        if (r.allowIsBidirectionalSkip() && localFits && paddingFree) {
            return null;
        }
        MaskFunction f = r.maskFunction();
        if (padding != null) f = f.and(MaskFunction.padding(padding));
        boolean[] out = new boolean[r.batch() * r.qLength() * r.kvLength()];
        int i = 0;
        for (int b = 0; b < r.batch(); b++) {
            for (int q = 0; q < r.qLength(); q++) {
                for (int kv = 0; kv < r.kvLength(); kv++) {
                    out[i++] = f.test(b, 0, q + r.qOffset(), kv + r.kvOffset());
                }
            }
        }
        return new BooleanMask(out, r.batch(), r.qLength(), r.kvLength());
    }

    /** Additive float mask (B, 1, Sq, Skv): 0 where attending, {@link #MIN_VALUE} elsewhere. */
    public static AdditiveMask eagerMask(MaskFormatter.MaskRequest r) {
        BooleanMask m = sdpaMask(r.withoutCausalSkip());
        return m == null ? null : AdditiveMask.of(m);
    }

    /** HF prepare_padding_mask: right-pad with false up to kvOffset + kvLength, never slice. */
    static boolean[][] preparePaddingMask(boolean[][] pm, int kvLength, int kvOffset) {
        if (pm == null) return null;
        int need = kvLength + kvOffset;
        boolean[][] out = pm;
        if (pm.length > 0 && pm[0].length < need) {
            out = new boolean[pm.length][need];
            for (int b = 0; b < pm.length; b++) System.arraycopy(pm[b], 0, out[b], 0, pm[b].length);
        }
        return out;
    }

    private static boolean allTrue(boolean[][] pm, int from, int len) {
        if (pm == null) return true;
        for (boolean[] row : pm) {
            for (int i = from; i < Math.min(row.length, from + len); i++) if (!row[i]) return false;
        }
        return true;
    }
}
