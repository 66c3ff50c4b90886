package attnspark.kernels;

/**
 * Floats {@code array[offset .. offset+length)}: where a kernel reads or writes a (rows, width)
 * matrix, row r from {@code offset + r·width}. Buffers from {@link AlignedFloats} start at an
 * offset so that every row of a width that is a multiple of 16 floats begins on a 64-byte line,
 * and they may share their array with other spans: stay within the length.
 */
public record FloatSpan(float[] array, int offset, int length) {
    /** No floats: an activation buffer before its first batch. */
    public static final FloatSpan EMPTY = new FloatSpan(new float[0], 0, 0);

    public FloatSpan {
        if (offset < 0 || length < 0 || (long) offset + length > array.length) {
            throw new IllegalArgumentException("a span of " + length + " floats from " + offset
                    + " does not fit an array of " + array.length + " floats");
        }
    }

    /** From offset to the array's end. */
    public FloatSpan(float[] array, int offset) {
        this(array, offset, array.length - offset);
    }

    /** The whole array. */
    public static FloatSpan of(float[] array) {
        return new FloatSpan(array, 0, array.length);
    }
}
