package attnspark.kernels;

import attnspark.batch.TokenBatch;

/** The host as a {@link Device}: kernels read the Arrow buffers in place, nothing is copied. */
final class CpuDevice implements Device {
    static final CpuDevice INSTANCE = new CpuDevice();

    private CpuDevice() {}

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public DeviceBatch upload(TokenBatch batch) {
        return new DeviceBatch() {
            @Override
            public Device device() {
                return CpuDevice.this;
            }

            @Override
            public TokenBatch host() {
                return batch;
            }

            @Override
            public long tokenIds() {
                return batch.tokenIdAddress();
            }

            @Override
            public long positions() {
                return batch.positionAddress();
            }

            @Override
            public long cuSeqlens() {
                return batch.cuSeqlensAddress();
            }

            @Override
            public void close() {
                // nothing was copied; the batch's owner frees the Arrow memory
            }
        };
    }
}
