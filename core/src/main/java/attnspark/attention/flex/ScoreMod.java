package attnspark.attention.flex;

/**
 * torch.nn.attention.flex_attention's {@code score_mod}: rewrites one scaled score
 * {@code (q·k) * scaling} of query head {@code h} before the softmax. Called only for entries
 * the block mask keeps. {@code q} and {@code kv} are indices into the query and key tensors
 * (no offsets: put those in the mod itself). Must be pure: the kernel calls it from several threads.
 */
@FunctionalInterface
public interface ScoreMod {
    float apply(float score, int b, int h, int q, int kv);

    /** Identity, torch's {@code _identity}. */
    static ScoreMod identity() {
        return (s, b, h, q, kv) -> s;
    }

    /** HF's flex softcap: {@code softcap * tanh(score / softcap)}. */
    static ScoreMod softcap(float softcap) {
        if (!(softcap > 0)) throw new IllegalArgumentException("softcap must be positive, got " + softcap);
        return (s, b, h, q, kv) -> (float) (softcap * Math.tanh(s / softcap));
    }

    /** {@code other} applied to this mod's result. */
    default ScoreMod andThen(ScoreMod other) {
        if (other == null) return this;
        return (s, b, h, q, kv) -> other.apply(apply(s, b, h, q, kv), b, h, q, kv);
    }
}
