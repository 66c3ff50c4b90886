package attnspark.kernels;

import static org.bytedeco.openblas.global.openblas.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas.CblasTrans;
import static org.bytedeco.openblas.global.openblas.cblas_sgemm;

import attnspark.tensor.FloatTensor;
import org.bytedeco.javacpp.FloatPointer;

/**
 * nn.Linear as one cblas_sgemm on the OpenBLAS that ND4J's native backend ships. Measured
 * here at ~300 GFLOP/s on the encoder's (4096 x 384 x 1536) shape, against ~70 through
 * INDArray.mmul, whose op dispatch and buffer allocation dominate at these sizes.
 * The weight stays off-heap in HF layout (out, in) and is used transposed by the gemm;
 * activations go through per-thread off-heap scratch buffers, reused across calls.
 */
final class OpenBlasLinear implements Linear {
    private final FloatPointer w; // (out, in)
    private final float[] bias; // (out) or null
    private final int in, out;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private static final class Scratch {
        FloatPointer x = new FloatPointer(0L), y = new FloatPointer(0L);

        FloatPointer x(long n) {
            if (x.capacity() < n) {
                x.close();
                x = new FloatPointer(n);
            }
            return x;
        }

        FloatPointer y(long n) {
            if (y.capacity() < n) {
                y.close();
                y = new FloatPointer(n);
            }
            return y;
        }
    }

    OpenBlasLinear(FloatTensor weight, FloatTensor b) {
        this.out = weight.dim(0);
        this.in = weight.dim(1);
        this.w = new FloatPointer(weight.data);
        this.bias = b == null ? null : b.data.clone();
    }

    public int inFeatures() {
        return in;
    }

    public int outFeatures() {
        return out;
    }

    public float[] forward(float[] x, int rows) {
        if (x.length < (long) rows * in) {
            throw new IllegalArgumentException(
                    "linear input holds " + x.length + " floats, expected rows*in = " + (long) rows * in);
        }
        float[] y = new float[rows * out];
        if (rows == 0) return y;
        Scratch s = SCRATCH.get();
        FloatPointer X = s.x((long) rows * in), Y = s.y((long) rows * out);
        X.position(0).put(x, 0, rows * in);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, out, in, 1f, X, in, w, in, 0f, Y, out);
        Y.position(0).get(y, 0, rows * out);
        if (bias != null) {
            for (int r = 0; r < rows; r++) {
                int o = r * out;
                for (int j = 0; j < out; j++) y[o + j] += bias[j];
            }
        }
        return y;
    }
}
