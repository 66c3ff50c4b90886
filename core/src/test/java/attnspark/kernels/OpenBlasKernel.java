package attnspark.kernels;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Pins the matrix kernel to OpenBLAS for one test class ({@code @ExtendWith(OpenBlasKernel.class)})
 * and restores the previous choice after it. OpenBLAS's thread count is only set when OpenBLAS
 * is the kernel ({@link Kernels#selected}; the vector kernel is the default where the Vector
 * API is), and the tests of thread scopes check that count.
 */
public final class OpenBlasKernel implements BeforeAllCallback, AfterAllCallback {
    private static final String PROPERTY = "attnspark.kernel";
    private static final ExtensionContext.Namespace STORE = ExtensionContext.Namespace.create(OpenBlasKernel.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        // a one-element array: the previous value may be null (no choice made), which the store cannot hold
        context.getStore(STORE).put(PROPERTY, new String[] {System.setProperty(PROPERTY, "openblas")});
    }

    @Override
    public void afterAll(ExtensionContext context) {
        String previous = context.getStore(STORE).get(PROPERTY, String[].class)[0];
        if (previous == null) System.clearProperty(PROPERTY);
        else System.setProperty(PROPERTY, previous);
    }
}
