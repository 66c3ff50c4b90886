package attnspark.kernels;

import attnspark.batch.TokenBatch;

/**
 * Where a forward pass runs, seen from the data path: the one place a {@link TokenBatch} crosses
 * from host memory to the memory the kernels read. The embedders and scorers upload each forward
 * batch through here and hand the models {@link DeviceBatch#host()} (the readers) plus the device
 * addresses; nothing in the models names a device.
 *
 * <p>{@link #cpu()} uses the Arrow buffers in place (zero copies: the addresses are the batch's
 * own). A CUDA implementation plugs in behind this interface: its {@code upload} copies the ids,
 * positions and {@code cu_seqlens} buffers host-to-device once per batch (they are contiguous
 * off-heap memory, so one {@code cudaMemcpyAsync} each, no per-row arrays) and its
 * {@link DeviceBatch#close()} frees the device copies; the matmuls already route to a GPU through
 * {@code -Dattnspark.kernel=nd4j} with ND4J's CUDA backend ({@link Kernels}).
 */
public interface Device {
    /** "cpu", "cuda:0", ... */
    String name();

    /** The batch as this device's kernels read it; close it before the batch. */
    DeviceBatch upload(TokenBatch batch);

    /** The host: Arrow buffers read in place. */
    static Device cpu() {
        return CpuDevice.INSTANCE;
    }
}
