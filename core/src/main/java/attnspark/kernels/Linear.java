package attnspark.kernels;

import attnspark.tensor.FloatTensor;

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
}
