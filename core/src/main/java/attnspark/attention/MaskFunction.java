package attnspark.attention;

/**
 * HF's mask_function: an index predicate over absolute positions, true = may attend.
 * Composed with {@link #and}/{@link #or} exactly like {@code and_masks}/{@code or_masks}.
 */
@FunctionalInterface
public interface MaskFunction {
    boolean test(int batch, int head, int q, int kv);

    default MaskFunction and(MaskFunction other) {
        if (other == null) throw new IllegalArgumentException("All inputs should be callable mask functions: got null");
        return (b, h, q, kv) -> test(b, h, q, kv) && other.test(b, h, q, kv);
    }

    default MaskFunction or(MaskFunction other) {
        if (other == null) throw new IllegalArgumentException("All inputs should be callable mask functions: got null");
        return (b, h, q, kv) -> test(b, h, q, kv) || other.test(b, h, q, kv);
    }

    /** The primitives of HF's masking_utils, with the same predicates. */
    static MaskFunction causal() {
        return (b, h, q, kv) -> kv <= q;
    }

    static MaskFunction bidirectional() {
        return (b, h, q, kv) -> q >= 0;
    }

    /** Window of w tokens including self: q - w < kv <= q. */
    static MaskFunction slidingWindowCausal(int w) {
        return (b, h, q, kv) -> kv > q - w && kv <= q;
    }

    /** |q - kv| <= w: a span of 2w+1. */
    static MaskFunction slidingWindowBidirectional(int w) {
        return (b, h, q, kv) -> Math.abs(q - kv) <= w;
    }

    /** Chunks of c counted from the first real token (left padding shifts them); floor division as in Python. */
    static MaskFunction chunkedCausal(int c, int[] leftPadding) {
        return (b, h, q, kv) -> {
            int lp = leftPadding == null ? 0 : leftPadding[b];
            return kv <= q && Math.floorDiv(kv - lp, c) == Math.floorDiv(q - lp, c);
        };
    }

    /** pm[b][kv]: false for padding keys. */
    static MaskFunction padding(boolean[][] paddingMask) {
        return (b, h, q, kv) -> paddingMask[b][kv];
    }

    /** Tokens attend only inside their own packed sequence. */
    static MaskFunction packedSequence(int[][] sequenceIds) {
        return (b, h, q, kv) -> sequenceIds[b][q] == sequenceIds[b][kv];
    }

    static MaskFunction withOffsets(MaskFunction f, int qOffset, int kvOffset) {
        return (b, h, q, kv) -> f.test(b, h, q + qOffset, kv + kvOffset);
    }
}
