package attnspark.tensor;

import java.util.Arrays;

/**
 * A dense row-major float32 tensor on the Java heap: the one currency between checkpoint
 * readers, models and attention backends. Kept deliberately plain: hot loops index
 * {@link #data} directly with the strides that the shape implies.
 */
public final class FloatTensor {
    public final float[] data;
    public final int[] shape;

    public FloatTensor(float[] data, int... shape) {
        long n = numel(shape);
        if (n != data.length) {
            throw new IllegalArgumentException(
                    "shape " + Arrays.toString(shape) + " holds " + n + " values but the data has " + data.length);
        }
        this.data = data;
        this.shape = shape.clone();
    }

    public static FloatTensor zeros(int... shape) {
        long n = numel(shape);
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(
                    "tensor of shape " + Arrays.toString(shape) + " is too large for one Java array");
        }
        return new FloatTensor(new float[(int) n], shape);
    }

    public static long numel(int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            n *= d;
        }
        return n;
    }

    public int dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    public int rank() {
        return shape.length;
    }

    public int size() {
        return data.length;
    }

    public FloatTensor reshape(int... newShape) {
        return new FloatTensor(data, newShape);
    }

    public boolean sameShape(int... other) {
        return Arrays.equals(shape, other);
    }

    @Override
    public String toString() {
        return "FloatTensor" + Arrays.toString(shape);
    }
}
