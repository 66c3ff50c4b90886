package attnspark.kernels;

import java.util.Arrays;

/**
 * y = x · Wᵀ + b over many rows at once (an nn.Linear). Models call only this for their
 * matrix work, so the kernel behind it (ND4J BLAS now, Vector API or CUDA later) is one
 * choice in {@link Kernels}.
 */
public interface Linear {
    /**
     * Rows of the Vector API kernel's register tile: a caller that splits rows over several calls
     * (the scorer's head slices) loses least with slices of a multiple of this many rows, the rows
     * past the last whole tile of a call going through slower paths.
     */
    int TILE_ROWS = 8;

    int inFeatures();

    int outFeatures();

    /**
     * Whether each output row comes from its input row alone, by the same operations however many
     * rows a call holds and wherever the row sits in it (the Vector API and plain-loop kernels):
     * then a caller may split rows over several calls, or threads, without changing a bit. BLAS's
     * sgemm is not (its blocking, and so its sums, depend on the row count).
     */
    default boolean rowInvariant() {
        return false;
    }

    /** x (rows, in) -> (rows, out). */
    float[] forward(float[] x, int rows);

    /**
     * x (rows, in) -> y (rows, out), both from their span's offset, in the caller's buffer (an
     * activation arena reused across layers and batches), with the epilogue applied after the
     * bias. Kernels without a fused epilogue copy in and out and apply it in a second pass.
     */
    default void forward(FloatSpan x, int rows, FloatSpan y, Epilogue epilogue) {
        int n = rows * inFeatures();
        float[] in = x.offset() == 0 ? x.array() : Arrays.copyOfRange(x.array(), x.offset(), x.offset() + n);
        float[] r = forward(in, rows);
        System.arraycopy(r, 0, y.array(), y.offset(), r.length);
        epilogue.apply(y.array(), y.offset(), r.length);
    }

    /** {@link #forward(FloatSpan, int, FloatSpan, Epilogue)} on whole arrays. */
    default void forward(float[] x, int rows, float[] y, Epilogue epilogue) {
        forward(FloatSpan.of(x), rows, FloatSpan.of(y), epilogue);
    }
}
