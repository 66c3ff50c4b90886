package attnspark.batch;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.Float4Vector;

/**
 * One pooled embedding per sequence, (n, dim) float32 row-major in one Arrow {@link Float4Vector}
 * (n·dim values, sequence s at s·dim): what the model writes and the Spark side turns into rows.
 * Off-heap like {@link TokenBatch}, so a GPU backend fills it with one device-to-host copy. Owns a
 * child allocator of the replica's, freed in {@link #close()}.
 */
public final class PooledVectors implements AutoCloseable {
    private final BufferAllocator allocator;
    private final Float4Vector values;
    private final int size;
    private final int dimension;

    private PooledVectors(BufferAllocator allocator, Float4Vector values, int size, int dimension) {
        this.allocator = allocator;
        this.values = values;
        this.size = size;
        this.dimension = dimension;
    }

    /** Room for {@code size} vectors of {@code dimension} floats, all 0 until set. */
    public static PooledVectors allocate(BufferAllocator parent, int size, int dimension) {
        if (size < 0 || dimension <= 0)
            throw new IllegalArgumentException("need size >= 0 and dimension > 0, got " + size + " x " + dimension);
        long count = (long) size * dimension;
        if (count > Integer.MAX_VALUE / Float4Vector.TYPE_WIDTH) {
            throw new IllegalArgumentException(size + " vectors of " + dimension
                    + " floats do not fit one Arrow vector; embed fewer rows per call");
        }
        BufferAllocator child = parent.newChildAllocator("pooled-vectors", 0, parent.getLimit());
        Float4Vector v = new Float4Vector("embedding", child);
        try {
            v.allocateNew(Math.max(1, (int) count));
            v.zeroVector();
            // every value is defined: mark them valid at once instead of per set()
            v.getValidityBuffer().setOne(0, v.getValidityBuffer().capacity());
            v.setValueCount((int) count);
        } catch (RuntimeException | Error e) {
            v.close();
            child.close();
            throw e;
        }
        return new PooledVectors(child, v, size, dimension);
    }

    public int size() {
        return size;
    }

    public int dimension() {
        return dimension;
    }

    /** Writes sequence s's vector (length dimension()). */
    public void set(int s, float[] vector) {
        if (vector.length != dimension)
            throw new IllegalArgumentException("vector of " + vector.length + " floats, expected " + dimension);
        ArrowBuf buf = values.getDataBuffer();
        long base = (long) check(s) * dimension * Float4Vector.TYPE_WIDTH;
        for (int d = 0; d < dimension; d++) buf.setFloat(base + (long) d * Float4Vector.TYPE_WIDTH, vector[d]);
    }

    public float get(int s, int d) {
        if (d < 0 || d >= dimension) throw new IndexOutOfBoundsException("dimension " + d + " of " + dimension);
        return values.getDataBuffer().getFloat(((long) check(s) * dimension + d) * Float4Vector.TYPE_WIDTH);
    }

    /** Sequence s's vector as a new array (what a Spark row holds). */
    public float[] vector(int s) {
        float[] v = new float[dimension];
        ArrowBuf buf = values.getDataBuffer();
        long base = (long) check(s) * dimension * Float4Vector.TYPE_WIDTH;
        for (int d = 0; d < dimension; d++) v[d] = buf.getFloat(base + (long) d * Float4Vector.TYPE_WIDTH);
        return v;
    }

    /** (n, dim) float32, in place; valid until {@link #close()}. */
    public ArrowBuf buffer() {
        return values.getDataBuffer();
    }

    public long address() {
        return values.getDataBuffer().memoryAddress();
    }

    private int check(int s) {
        if (s < 0 || s >= size) throw new IndexOutOfBoundsException("vector " + s + " of " + size);
        return s;
    }

    @Override
    public void close() {
        values.close();
        allocator.close();
    }
}
