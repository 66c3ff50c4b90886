package attnspark.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

class HeapMeterTest {
    // arrays of 1 MiB and more are allocated outside the thread-local buffers, so each counts in full
    private static final int MIB = 1 << 20;
    private static volatile byte[] sink;

    @Test
    void countsTheBytesThisThreadAllocates() {
        long before = HeapMeter.allocated();
        sink = new byte[8 * MIB];
        long bytes = HeapMeter.since(before);
        // the array (8 MiB and its header); other threads may add a little, never 1 MiB in this instant
        assertTrue(bytes >= 8L * MIB && bytes < 9L * MIB, "8 MiB array counted as " + bytes + " bytes");
    }

    @Test
    void warmUpStopsAtTheFirstCallThatAllocatesWhatThePreviousOneDid() {
        // what the JIT does to a kernel's allocations, by hand: less each call, then the same
        Iterator<Integer> mib = List.of(6, 4, 2, 1, 1, 1, 1).iterator();
        assertEquals(5, PrefillBench.warmUp(() -> sink = new byte[mib.next() * MIB]));
    }

    @Test
    void warmUpGivesUpAfterItsLimit() {
        int[] calls = {0};
        int n = PrefillBench.warmUp(() -> sink = new byte[++calls[0] * 2 * MIB]);
        assertEquals(10, n);
        assertEquals(10, calls[0]);
    }
}
