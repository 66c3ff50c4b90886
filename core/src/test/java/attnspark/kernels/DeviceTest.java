package attnspark.kernels;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.batch.TokenBatch;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Test;

class DeviceTest {
    @Test
    void cpuUsesTheArrowBuffersInPlaceAndCopiesNothing() {
        try (BufferAllocator root = new RootAllocator();
                TokenBatch batch = TokenBatch.of(root, List.of(new int[] {101, 7, 102}, new int[] {101, 102}))) {
            long before = root.getAllocatedMemory();
            try (DeviceBatch d = Device.cpu().upload(batch)) {
                assertEquals("cpu", d.device().name());
                assertSame(batch, d.host());
                assertEquals(batch.tokenIdAddress(), d.tokenIds());
                assertEquals(batch.positionAddress(), d.positions());
                assertEquals(batch.cuSeqlensAddress(), d.cuSeqlens());
                assertEquals(before, root.getAllocatedMemory(), "no copy allocated");
            }
            assertEquals(5, batch.totalTokens(), "closing the device view leaves the host batch open");
        }
    }
}
