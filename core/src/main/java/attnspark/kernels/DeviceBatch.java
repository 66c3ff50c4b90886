package attnspark.kernels;

import attnspark.batch.TokenBatch;

/**
 * A {@link TokenBatch} made readable by one {@link Device}'s kernels: the addresses are in that
 * device's memory (host addresses on the CPU). Closing it frees only device-side copies; the
 * host batch stays open until its owner closes it.
 */
public interface DeviceBatch extends AutoCloseable {
    Device device();

    /** The host batch: its readers (numSequences, seqStart, tokenId, ...) for code running on the host. */
    TokenBatch host();

    /** (T) int32 token ids in device memory. */
    long tokenIds();

    /** (T) int32 position ids in device memory. */
    long positions();

    /** (n+1) int32 cu_seqlens in device memory. */
    long cuSeqlens();

    @Override
    void close();
}
