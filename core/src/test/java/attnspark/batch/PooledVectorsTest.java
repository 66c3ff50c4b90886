package attnspark.batch;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.memory.util.MemoryUtil;
import org.junit.jupiter.api.Test;

/** PooledVectors against a plain float[][] holding the same writes. */
class PooledVectorsTest {
    @Test
    void readsBackEveryWriteInRowMajorOrder() {
        Random rnd = new Random(3);
        int n = 17, dim = 384;
        float[][] plain = new float[n][dim]; // never-written rows stay 0 in both
        try (BufferAllocator root = new RootAllocator();
                PooledVectors v = PooledVectors.allocate(root, n, dim)) {
            for (int k = 0; k < 40; k++) {
                int s = rnd.nextInt(n);
                float[] x = new float[dim];
                for (int d = 0; d < dim; d++) x[d] = (float) rnd.nextGaussian();
                plain[s] = x.clone();
                v.set(s, x);
            }
            for (int s = 0; s < n; s++) {
                assertArrayEquals(plain[s], v.vector(s), "vector " + s);
                for (int d = 0; d < dim; d += 37) {
                    assertEquals(plain[s][d], v.get(s, d));
                    assertEquals(plain[s][d], MemoryUtil.UNSAFE.getFloat(v.address() + 4L * ((long) s * dim + d)));
                }
            }
            assertThrows(IllegalArgumentException.class, () -> v.set(0, new float[dim - 1]));
            assertThrows(IndexOutOfBoundsException.class, () -> v.vector(n));
        }
    }

    @Test
    void closingGivesTheMemoryBack() {
        try (BufferAllocator root = new RootAllocator()) {
            PooledVectors v = PooledVectors.allocate(root, 3, 8);
            assertTrue(root.getAllocatedMemory() > 0);
            v.close();
            assertEquals(0, root.getAllocatedMemory());
            try (PooledVectors empty = PooledVectors.allocate(root, 0, 8)) {
                assertEquals(0, empty.size());
            }
        }
    }
}
