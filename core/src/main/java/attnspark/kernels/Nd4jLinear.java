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
    private final INDArray wT; // (in, out)
    private final INDArray bias; // (1, out) or null
    private final int in, out;

    Nd4jLinear(FloatTensor weight, FloatTensor b) {
        this.out = weight.dim(0);
        this.in = weight.dim(1);
        this.wT = Nd4j.create(weight.data, new long[] {out, in}, DataType.FLOAT)
                .transpose()
                .dup('c');
        this.bias = b == null ? null : Nd4j.create(b.data, new long[] {1, out}, DataType.FLOAT);
    }

    public int inFeatures() {
        return in;
    }

    public int outFeatures() {
        return out;
    }

    public float[] forward(float[] x, int rows) {
        // bulk copies through the buffers' NIO views: element-wise DataBuffer.put costs more than the gemm
        try (var ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces();
                INDArray X = Nd4j.createUninitialized(DataType.FLOAT, rows, in);
                INDArray Y = Nd4j.createUninitialized(DataType.FLOAT, rows, out)) {
            X.data().asNioFloat().put(x, 0, rows * in);
            X.mmuli(wT, Y); // (rows, in) x (in, out) into c-order Y
            if (bias != null) Y.addiRowVector(bias);
            float[] y = new float[rows * out];
            Y.data().asNioFloat().get(y);
            return y;
        }
    }
}
