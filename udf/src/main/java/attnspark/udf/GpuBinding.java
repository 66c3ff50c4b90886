package attnspark.udf;

import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import scala.Option;

/**
 * Binds the current task thread to the GPU that Spark's resource scheduling gave the task
 * ({@code spark.executor.resource.gpu.amount}, {@code spark.task.resource.gpu.amount}; see
 * conf/gpu-rapids.conf). Without a "gpu" resource this does nothing. With one it records the
 * address in the system property {@value #PROPERTY} (for logs and diagnostics only: no code in
 * attnspark reads it, and the Java attention and matmul kernels run on the CPU regardless) and,
 * when the ND4J CUDA backend is on the classpath (mvn -Pcuda), makes ND4J use that device on
 * this thread, so the matmuls of the nd4j kernel ({@code -Dattnspark.kernel=nd4j}) run on it.
 */
public final class GpuBinding {
    public static final String PROPERTY = "attnspark.gpu.address";

    private GpuBinding() {}

    /** The first GPU address of the running task, or null (no task, or no gpu resource). */
    public static String taskGpuAddress() {
        TaskContext tc = TaskContext.get();
        if (tc == null) {
            return null;
        }
        Option<ResourceInformation> gpu = tc.resources().get("gpu");
        if (gpu.isEmpty() || gpu.get().addresses().length == 0) {
            return null;
        }
        return gpu.get().addresses()[0];
    }

    /** Call at the start of a partition, before the replica is used. Never throws. */
    public static void bindCurrentTask() {
        String address = taskGpuAddress();
        if (address == null) {
            return;
        }
        System.setProperty(PROPERTY, address);
        try {
            Class<?> nd4j = Class.forName("org.nd4j.linalg.factory.Nd4j");
            Object backend = nd4j.getMethod("getBackend").invoke(null);
            if (backend != null && backend.getClass().getName().toLowerCase().contains("cuda")) {
                Object affinity = nd4j.getMethod("getAffinityManager").invoke(null);
                affinity.getClass()
                        .getMethod("unsafeSetDevice", Integer.class)
                        .invoke(affinity, Integer.valueOf(address.trim()));
            }
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            System.err.println("attnspark: could not bind task to GPU " + address + ": " + e);
        }
    }
}
