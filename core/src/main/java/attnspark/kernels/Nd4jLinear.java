package attnspark.kernels;

import attnspark.tensor.FloatTensor;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * nn.Linear on ND4J's BLAS gemm. The weight lives off-heap once, pre-transposed to (in, out);
 * each call copies the activations in and the result out, which is O(rows·(in+out)) next to
 * the O(rows·in·out) gemm.
 */
final class Nd4jLinear implements Linear {
    private final INDArray wT;   // (in, out)
    private final INDArray bias; // (1, out) or null
    private final int in, out;

    Nd4jLinear(FloatTensor weight, FloatTensor b) {
        this.out = weight.dim(0);
        this.in = weight.dim(1);
        this.wT = Nd4j.create(weight.data, new long[]{out, in}, DataType.FLOAT).transpose().dup('c');
        this.bias = b == null ? null : Nd4j.create(b.data, new long[]{1, out}, DataType.FLOAT);
    }

    public int inFeatures() { return in; }

    public int outFeatures() { return out; }

    public float[] forward(float[] x, int rows) {
        try (var ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray X = Nd4j.create(x, new long[]{rows, in}, DataType.FLOAT);
            INDArray Y = X.mmul(wT);
            if (bias != null) Y.addiRowVector(bias);
            float[] y = Y.data().asFloat();
            X.close();
            Y.close();
            return y;
        }
    }
}
