package attnspark.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AlignedFloatsTest {
    /** The array header is 16 bytes with compressed class pointers (the default): element 12 sits 64 bytes in. */
    @Test
    void alignedStartIsTheFirstElementOnA64ByteBoundary() {
        int header = sun.misc.Unsafe.ARRAY_FLOAT_BASE_OFFSET;
        assertEquals(0, (header + AlignedFloats.ALIGNED_START * Float.BYTES) % 64);
        assertTrue(AlignedFloats.ALIGNED_START < 16);
    }

    @Test
    void spansFromASlabAreDisjointZeroedAndStartOnLines() {
        List<FloatSpan> spans = new ArrayList<>();
        int[] lengths = {1 << 16, 147_456, 442_368 + 5, 589_824, 1 << 16};
        for (int n : lengths) spans.add(AlignedFloats.allocate(n));
        for (int i = 0; i < spans.size(); i++) {
            FloatSpan s = spans.get(i);
            assertEquals(AlignedFloats.SLAB_FLOATS, s.array().length, "span " + i + " comes from a slab");
            assertEquals(0, (s.offset() - AlignedFloats.ALIGNED_START) % 16, "span " + i + " starts on a line");
            assertTrue(s.offset() + lengths[i] <= s.array().length, "span " + i + " fits its slab");
            for (int j = s.offset(); j < s.offset() + lengths[i]; j++) assertEquals(0f, s.array()[j]);
            for (int j = 0; j < i; j++) {
                FloatSpan t = spans.get(j);
                if (t.array() != s.array()) continue;
                boolean disjoint = t.offset() + lengths[j] <= s.offset() || s.offset() + lengths[i] <= t.offset();
                assertTrue(disjoint, "spans " + j + " and " + i + " overlap");
            }
        }
        // a span that does not fit what is left of the slab starts a new one
        FloatSpan big = AlignedFloats.allocate(AlignedFloats.SLAB_FLOATS / 2 - 1);
        FloatSpan next = AlignedFloats.allocate(AlignedFloats.SLAB_FLOATS / 2 - 1);
        assertNotSame(big.array(), next.array());
        assertEquals(AlignedFloats.ALIGNED_START, next.offset());
    }

    @Test
    void smallSpansArePlainArraysAndLargeOnesTheirOwn() {
        FloatSpan small = AlignedFloats.allocate(1000);
        assertEquals(1000, small.array().length);
        assertEquals(0, small.offset());
        int half = AlignedFloats.SLAB_FLOATS / 2;
        FloatSpan large = AlignedFloats.allocate(half);
        assertEquals(AlignedFloats.ALIGNED_START + half, large.array().length);
        assertEquals(AlignedFloats.ALIGNED_START, large.offset());
        FloatSpan a = AlignedFloats.allocate(1 << 16), b = AlignedFloats.allocate(1 << 16);
        assertSame(a.array(), b.array());
        assertThrows(IllegalArgumentException.class, () -> AlignedFloats.allocate(-1));
    }

    @Test
    void scratchSpansAreOnLinesHoweverShort() {
        for (int n : new int[] {0, 1, 47, 8_832}) {
            FloatSpan s = AlignedFloats.scratch(n);
            assertEquals(AlignedFloats.SLAB_FLOATS, s.array().length, n + " floats come from a slab");
            assertEquals(0, (s.offset() - AlignedFloats.ALIGNED_START) % 16, n + " floats start on a line");
            assertEquals(n, s.length());
        }
        assertThrows(IllegalArgumentException.class, () -> AlignedFloats.scratch(-1));
        assertThrows(IllegalArgumentException.class, () -> new FloatSpan(new float[4], 5));
        assertThrows(IllegalArgumentException.class, () -> new FloatSpan(new float[4], 1, 4));
    }

    @Test
    void activationBuffersGrowInStepsOfRowsAndAreKeptWhileTheyFit() {
        FloatSpan empty = FloatSpan.of(new float[0]);
        FloatSpan a = AlignedFloats.atLeast(empty, 1000, 384);
        assertEquals(AlignedFloats.ROW_GRAIN * 384, a.length(), "1,000 rows round up to one grain");
        assertSame(a, AlignedFloats.atLeast(a, 1024, 384), "a batch that fits keeps the buffer");
        assertSame(a, AlignedFloats.atLeast(a, 3, 384));
        FloatSpan b = AlignedFloats.atLeast(a, 1025, 384);
        assertEquals(2 * AlignedFloats.ROW_GRAIN * 384, b.length(), "one row more takes the next grain");
        assertEquals(0, (b.offset() - AlignedFloats.ALIGNED_START) % 16, "on a line");
    }
}
