package attnspark.kernels;

/**
 * A buffer per thread on 64-byte lines ({@link AlignedFloats#scratch}), grown to the largest size
 * its thread has asked for and then reused: a linear's k-step sums, a block of MLP activations.
 */
public final class ThreadScratch {
    private final ThreadLocal<FloatSpan[]> own = ThreadLocal.withInitial(() -> new FloatSpan[1]);

    /** This thread's buffer, at least {@code floats} long; it holds whatever its last user left in it. */
    public FloatSpan atLeast(int floats) {
        FloatSpan[] mine = own.get();
        if (mine[0] == null || mine[0].length() < floats) mine[0] = AlignedFloats.scratch(floats);
        return mine[0];
    }
}
