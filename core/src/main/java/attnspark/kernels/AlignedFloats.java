package attnspark.kernels;

import java.lang.ref.WeakReference;
import sun.misc.Unsafe;

/**
 * Float storage for weights and activations that the vector kernels load 64 bytes at a time, placed so those loads
 * are 64-byte aligned: a 512-bit load that straddles two cache lines costs two L1 accesses. On a
 * newer Xeon (family 6 model 167) aligned panels ran all-MiniLM-L6-v2's passes over 3,000 short
 * texts in 0.95x the time (0.99x over 120 long documents; whole passes of the engine with and
 * without them alternated in one JVM, same bits; the same big arrays 16 bytes off a line: 1.00x).
 *
 * <p>A Java array's address is not visible, but the region-based collectors start every array of
 * at least half a region at a region's start (G1's and Shenandoah's humongous objects, ZGC's
 * large pages), and a region is aligned to its size. So the elements of such an array from
 * {@link #ALIGNED_START} on are 64-byte aligned, and they stay so when the array moves. Weights
 * are carved from shared slabs of 32 MiB (at least half of any region size G1 picks by itself,
 * 1-32 MiB); a span of half a slab or more gets its own array, which is then humongous too. With
 * other collectors (Parallel, Serial) nothing is aligned and the kernels run as before. Alignment
 * never changes a result, only the speed.
 */
public final class AlignedFloats {
    static final int SLAB_FLOATS = 8 << 20; // 32 MiB
    /** Below this a span is a plain array: a small model's weights are not worth a slab. */
    static final int MIN_FLOATS = 1 << 16;

    private static final int LINE_FLOATS = 64 / Float.BYTES;
    /** The first element at a 64-byte boundary when the array itself starts at one. */
    static final int ALIGNED_START = (64 - Unsafe.ARRAY_FLOAT_BASE_OFFSET % 64) % 64 / Float.BYTES;

    // the slab being filled: weak, so that a slab no model uses any more can be collected
    private static WeakReference<float[]> slab = new WeakReference<>(null);
    private static int slabUsed;

    private AlignedFloats() {}

    /**
     * A zeroed span of {@code length} floats: elements {@code [offset, offset + length)} of its
     * array are the caller's, and {@code offset} is 64-byte aligned (under G1, Shenandoah and ZGC)
     * unless the span is under {@link #MIN_FLOATS}.
     */
    public static FloatSpan allocate(int length) {
        if (length < 0) {
            throw new IllegalArgumentException("span length must be >= 0, got " + length);
        }
        return length < MIN_FLOATS ? FloatSpan.of(new float[length]) : aligned(length);
    }

    /** Rows an activation buffer grows by: batches a few tokens apart share one size. */
    static final int ROW_GRAIN = 1024;

    /**
     * {@code span} if it holds {@code rows} rows of {@code width} floats, else a new span ({@link
     * #allocate}) for {@code rows} rounded up to a multiple of {@link #ROW_GRAIN}: an activation
     * buffer grown to the largest batch its thread has run. Grown to the exact size, a thread whose
     * batches came a few tokens larger one after another replaced its buffers every time (a 20,000-text
     * job allocated 1.5 GB of them, and the humongous allocations started G1 cycles).
     */
    public static FloatSpan atLeast(FloatSpan span, int rows, int width) {
        long need = (long) rows * width;
        if (span.length() >= need) return span;
        long grown = ((long) rows + ROW_GRAIN - 1) / ROW_GRAIN * ROW_GRAIN * width;
        return allocate(Math.toIntExact(grown <= Integer.MAX_VALUE / 2 ? grown : need));
    }

    /**
     * A zeroed span on a 64-byte line however short: for a kernel's scratch that lives as long as
     * its thread (a short span takes its place in a slab, not a region of its own).
     */
    static FloatSpan scratch(int length) {
        if (length < 0) {
            throw new IllegalArgumentException("span length must be >= 0, got " + length);
        }
        return aligned(length);
    }

    private static synchronized FloatSpan aligned(int length) {
        if (length >= SLAB_FLOATS / 2) return new FloatSpan(new float[ALIGNED_START + length], ALIGNED_START, length);
        float[] s = slab.get();
        if (s == null || slabUsed + length > SLAB_FLOATS) {
            s = new float[SLAB_FLOATS];
            slab = new WeakReference<>(s);
            slabUsed = ALIGNED_START;
        }
        FloatSpan span = new FloatSpan(s, slabUsed, length);
        // the next span starts on the next 64-byte boundary
        slabUsed += (length + LINE_FLOATS - 1) / LINE_FLOATS * LINE_FLOATS;
        return span;
    }
}
