package attnspark.kernels;

/**
 * y = x · Wᵀ + b over many rows at once (an nn.Linear). Models call only this for their
 * matrix work, so the kernel behind it (ND4J BLAS now, Vector API or CUDA later) is one
 * choice in {@link Kernels}.
 */
public interface Linear {
    int inFeatures();

    int outFeatures();

    /** x (rows, in) -> (rows, out). */
    float[] forward(float[] x, int rows);

    /**
     * x (rows, in) -> y (rows, out) in the caller's buffer (an activation arena reused across
     * layers and batches), with the epilogue applied after the bias. Kernels without a fused
     * epilogue compute, copy and apply it in a second pass.
     */
    default void forward(float[] x, int rows, float[] y, Epilogue epilogue) {
        float[] r = forward(x, rows);
        System.arraycopy(r, 0, y, 0, r.length);
        epilogue.apply(y, 0, r.length);
    }
}
