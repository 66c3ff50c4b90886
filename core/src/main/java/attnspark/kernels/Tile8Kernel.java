package attnspark.kernels;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.ConcurrentHashMap;

/** The 8-row x 3-vector register tile of {@link VectorLinear}'s gemm, for one packed weight. */
interface Tile8Kernel {
    /**
     * Rows of x from x[xRow] (8 rows, the linear's input width apart), panel p, k in [k0, k1): 24
     * accumulators, one k step = 3 weight loads, 8 broadcasts, 24 FMAs. They start from the bias
     * when {@code first}, else from the partial sums in acc (row i at {@code a + i·PANEL}), and end
     * in {@code dst}, row i at {@code d + i·ld} (acc itself, ld = PANEL, or y, ld = out).
     */
    void tile8(
            float[] x, int xRow, int p, int k0, int k1, boolean first, float[] acc, int a, float[] dst, int d, int ld);

    /**
     * The tile for a weight packed as {@link VectorLinear} packs it, (panels, in, PANEL) from
     * packed[base], with x's rows {@code in} floats apart: an instance of a hidden copy of
     * {@link FixedStrideTile8} whose constant stride is {@code in}, one class per width.
     */
    static Tile8Kernel forStride(int in, float[] packed, int base, float[] bias) {
        try {
            return (Tile8Kernel)
                    Classes.CONSTRUCTORS.computeIfAbsent(in, Classes::define).invokeExact(packed, base, bias);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("cannot build the linear kernel for input width " + in, e);
        }
    }

    /** The hidden copies of {@link FixedStrideTile8} by stride, as constructors (float[], int, float[]) -> Tile8Kernel. */
    final class Classes {
        private static final ConcurrentHashMap<Integer, MethodHandle> CONSTRUCTORS = new ConcurrentHashMap<>();
        private static final MethodType CONSTRUCTOR =
                MethodType.methodType(void.class, float[].class, int.class, float[].class);

        private Classes() {}

        private static MethodHandle define(int stride) {
            String file = FixedStrideTile8.class.getSimpleName() + ".class";
            try (InputStream in = Tile8Kernel.class.getResourceAsStream(file)) {
                if (in == null) {
                    throw new IllegalStateException("attnspark-core's " + file + " is not on the classpath beside "
                            + Tile8Kernel.class.getName() + ": rebuild or re-ship the attnspark-core jar");
                }
                MethodHandles.Lookup copy =
                        MethodHandles.lookup().defineHiddenClassWithClassData(in.readAllBytes(), stride, true);
                return copy.findConstructor(copy.lookupClass(), CONSTRUCTOR)
                        .asType(MethodType.methodType(Tile8Kernel.class, float[].class, int.class, float[].class));
            } catch (IOException | ReflectiveOperationException e) {
                throw new IllegalStateException(
                        "cannot define the linear kernel for input width " + stride + " from " + file, e);
            }
        }
    }
}
