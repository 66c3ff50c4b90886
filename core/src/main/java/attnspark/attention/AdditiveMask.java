package attnspark.attention;

import attnspark.tensor.FloatTensor;

/**
 * A dense additive mask (B or 1, 1, Sq, >= Skv): added to the scaled scores before the softmax,
 * 0 where attending and {@link MaskFormats#MIN_VALUE} elsewhere (HF's {@code eager_mask}), or any
 * other bias a caller wants on the scores.
 */
public record AdditiveMask(FloatTensor scores) implements AttentionMask {
    public AdditiveMask {
        if (scores.rank() != 4 || scores.dim(1) != 1) {
            throw new IllegalArgumentException("an additive mask is (B, 1, Sq, Skv), got " + scores);
        }
    }

    /** 0 where {@code mask} attends, {@link MaskFormats#MIN_VALUE} elsewhere. */
    public static AdditiveMask of(BooleanMask mask) {
        float[] add = new float[mask.data().length];
        for (int i = 0; i < add.length; i++) add[i] = mask.data()[i] ? 0f : MaskFormats.MIN_VALUE;
        return new AdditiveMask(new FloatTensor(add, mask.batch(), 1, mask.qLength(), mask.kvLength()));
    }

    public int batch() {
        return scores.dim(0);
    }

    public int qLength() {
        return scores.dim(2);
    }

    public int kvLength() {
        return scores.dim(3);
    }

    /** The value added to score (b, q, kv); batch 1 broadcasts. */
    public float get(int b, int q, int kv) {
        return scores.data[((batch() == 1 ? 0 : b) * qLength() + q) * kvLength() + kv];
    }

    @Override
    public String describe() {
        return "AdditiveMask " + scores;
    }
}
