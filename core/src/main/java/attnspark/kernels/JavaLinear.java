package attnspark.kernels;

import attnspark.tensor.FloatTensor;

/** Plain-loop nn.Linear: the reference the BLAS kernel is checked against. */
final class JavaLinear implements Linear {
    private final float[] w; // (out, in)
    private final float[] b; // (out) or null
    private final int in, out;

    JavaLinear(FloatTensor weight, FloatTensor bias) {
        this.w = weight.data;
        this.b = bias == null ? null : bias.data;
        this.out = weight.dim(0);
        this.in = weight.dim(1);
    }

    public int inFeatures() {
        return in;
    }

    public int outFeatures() {
        return out;
    }

    @Override
    public boolean rowInvariant() {
        return true;
    }

    public float[] forward(float[] x, int rows) {
        float[] y = new float[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                float acc = b == null ? 0f : b[o];
                for (int i = 0; i < in; i++) acc += x[r * in + i] * w[o * in + i];
                y[r * out + o] = acc;
            }
        }
        return y;
    }
}
