package attnspark.batch;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.testutil.Shared;
import attnspark.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.memory.util.MemoryUtil;
import org.junit.jupiter.api.Test;

/** TokenBatch against a plain Java model of the same sequences (lists of id arrays). */
class TokenBatchTest {

    /** The reference: what a packed batch of these sequences must read back as. */
    private record Plain(List<int[]> ids, List<Integer> rows, List<Integer> starts, List<Boolean> truncated) {
        Plain() {
            this(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        }

        int totalTokens() {
            return ids.stream().mapToInt(a -> a.length).sum();
        }
    }

    private static Plain randomPlain(Random rnd, int n) {
        Plain p = new Plain();
        for (int s = 0; s < n; s++) {
            int len = rnd.nextInt(5) == 0 ? 0 : 1 + rnd.nextInt(70); // empty sequences too
            int[] ids = new int[len];
            for (int i = 0; i < len; i++) ids[i] = rnd.nextInt(50_000);
            p.ids.add(ids);
            p.rows.add(rnd.nextInt(1000));
            p.starts.add(rnd.nextBoolean() ? 0 : rnd.nextInt(300));
            p.truncated.add(rnd.nextBoolean());
        }
        return p;
    }

    private static TokenBatch build(BufferAllocator root, Plain p, int capacityHint) {
        TokenBatch.Builder b = TokenBatch.builder(root, capacityHint, capacityHint);
        for (int s = 0; s < p.ids.size(); s++) b.add(p.rows.get(s), p.ids.get(s), p.starts.get(s), p.truncated.get(s));
        return b.build();
    }

    /** Every reader, and the raw memory at the exposed addresses, against the plain model. */
    private static void assertSame(Plain p, TokenBatch batch) {
        assertEquals(p.ids.size(), batch.numSequences());
        assertEquals(p.totalTokens(), batch.totalTokens());
        int t = 0, max = 0;
        for (int s = 0; s < p.ids.size(); s++) {
            int[] ids = p.ids.get(s);
            assertEquals(t, batch.seqStart(s), "seqStart " + s);
            assertEquals(ids.length, batch.seqLength(s), "seqLength " + s);
            assertEquals(p.rows.get(s), batch.rowIndex(s), "rowIndex " + s);
            assertEquals(p.truncated.get(s), batch.truncated(s), "truncated " + s);
            assertArrayEquals(ids, batch.sequenceIds(s), "ids " + s);
            for (int i = 0; i < ids.length; i++, t++) {
                assertEquals(ids[i], batch.tokenId(t), "token " + t);
                assertEquals(p.starts.get(s) + i, batch.position(t), "position " + t);
                // kernels read in place: the buffers and their native addresses hold the same ints
                assertEquals(ids[i], batch.tokenIdBuffer().getInt(4L * t));
                assertEquals(ids[i], MemoryUtil.UNSAFE.getInt(batch.tokenIdAddress() + 4L * t));
                assertEquals(p.starts.get(s) + i, MemoryUtil.UNSAFE.getInt(batch.positionAddress() + 4L * t));
            }
            if (ids.length > 0) assertEquals(p.starts.get(s), batch.startPosition(s));
            max = Math.max(max, ids.length);
        }
        assertEquals(t, batch.seqStart(p.ids.size()), "cu_seqlens[n] = T");
        for (int s = 0; s <= p.ids.size(); s++) {
            assertEquals(
                    batch.seqStart(s),
                    MemoryUtil.UNSAFE.getInt(batch.cuSeqlensAddress() + 4L * s),
                    "cu_seqlens[" + s + "]");
        }
        assertEquals(max, batch.maxLength());
        assertEquals(p.ids.size() + 1, batch.cuSeqlensVector().getValueCount());
        assertEquals(t, batch.tokenIdVector().getValueCount());
    }

    @Test
    void readsBackWhatWasAddedWhateverTheCapacityHint() {
        Random rnd = new Random(6);
        try (BufferAllocator root = new RootAllocator()) {
            for (int round = 0; round < 20; round++) {
                Plain p = randomPlain(rnd, rnd.nextInt(40));
                // hint 0 makes every vector grow while adding; a large hint never grows
                try (TokenBatch batch = build(root, p, round % 2 == 0 ? 0 : 4096)) {
                    assertSame(p, batch);
                }
            }
        }
    }

    @Test
    void emptyBatch() {
        try (BufferAllocator root = new RootAllocator();
                TokenBatch b = TokenBatch.of(root, List.of())) {
            assertEquals(0, b.numSequences());
            assertEquals(0, b.totalTokens());
            assertEquals(0, b.seqStart(0));
            assertThrows(IndexOutOfBoundsException.class, () -> b.tokenId(0));
            assertThrows(IndexOutOfBoundsException.class, () -> b.seqLength(0));
        }
    }

    @Test
    void selectKeepsChosenSequencesInTheGivenOrder() {
        Random rnd = new Random(7);
        try (BufferAllocator root = new RootAllocator()) {
            Plain p = randomPlain(rnd, 30);
            try (TokenBatch all = build(root, p, 8)) {
                int[] pick = {29, 3, 3, 0, 17, 12};
                Plain expected = new Plain();
                for (int s : pick) {
                    expected.ids.add(p.ids.get(s));
                    expected.rows.add(p.rows.get(s));
                    expected.starts.add(p.starts.get(s));
                    expected.truncated.add(p.truncated.get(s));
                }
                try (TokenBatch sub = all.select(root, pick)) {
                    assertSame(expected, sub);
                }
                assertSame(p, all); // the source is untouched
            }
        }
    }

    @Test
    void longIdsFromTheTokenizerAreNarrowedOrRejected() {
        try (BufferAllocator root = new RootAllocator()) {
            TokenBatch.Builder b = TokenBatch.builder(root, 1, 3);
            b.add(4, new long[] {101, 7592, 102}, true);
            try (TokenBatch batch = b.build()) {
                assertArrayEquals(new int[] {101, 7592, 102}, batch.sequenceIds(0));
                assertEquals(4, batch.rowIndex(0));
                assertTrue(batch.truncated(0));
            }
            try (TokenBatch.Builder bad = TokenBatch.builder(root, 1, 1)) {
                IllegalArgumentException e =
                        assertThrows(IllegalArgumentException.class, () -> bad.add(9, new long[] {1L << 40}, false));
                assertTrue(e.getMessage().contains("row 9"), e.getMessage());
            }
        }
    }

    @Test
    void anUnclosedBatchIsALeakTheRootAllocatorReports() {
        RootAllocator root = new RootAllocator();
        TokenBatch closed = TokenBatch.of(root, List.of(new int[] {4, 5}));
        closed.close();
        assertEquals(0, root.getAllocatedMemory(), "a closed batch gives its memory back");
        TokenBatch leaked = TokenBatch.of(root, List.of(new int[] {1, 2, 3}));
        assertTrue(root.getAllocatedMemory() > 0);
        IllegalStateException e = assertThrows(IllegalStateException.class, root::close);
        assertTrue(e.getMessage().contains("token-batch"), e.getMessage());
        assertEquals(3, leaked.totalTokens());
    }

    @Test
    void anAbandonedBuilderFreesItsMemory() {
        try (BufferAllocator root = new RootAllocator()) {
            TokenBatch.Builder b = TokenBatch.builder(root, 10, 100);
            b.add(0, new int[] {5, 6}, false);
            b.close();
            assertEquals(0, root.getAllocatedMemory());
            assertThrows(IllegalStateException.class, () -> b.add(1, new int[] {1}, false));
        }
    }

    @Test
    void tokenizerWritesItsIdsStraightIntoTheBatch() {
        List<String> texts =
                List.of("Once upon a time", "", "there was a cat who liked to sleep in the sun all day long");
        try (TextTokenizer tok = new TextTokenizer(Shared.stories260k().resolve("tokenizer.json"), 8);
                BufferAllocator root = new RootAllocator();
                TokenBatch batch = tok.encode(texts, root)) {
            Plain p = new Plain();
            for (int i = 0; i < texts.size(); i++) {
                TextTokenizer.Tokens one = tok.encode(texts.get(i));
                p.ids.add(one.ids());
                p.rows.add(i);
                p.starts.add(0);
                p.truncated.add(one.truncated());
            }
            assertTrue(p.truncated.get(2), "the long text is cut at 8 tokens");
            assertSame(p, batch);
        }
    }
}
