package attnspark.cache;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class PagedKvCacheTest {
    static final int HKV = 2, D = 3;

    static float[] rand(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = r.nextFloat() * 2 - 1;
        return a;
    }

    @Test
    void allocateFreeAndReuse() {
        PagedKvCache c = new PagedKvCache(2, 6, 4, HKV, D);
        assertEquals(6, c.freePages());
        assertEquals(3, c.allocate(7, 9)); // ceil(9/4)
        assertEquals(3, c.freePages());
        assertEquals(0, c.allocate(7, 9)); // nothing written yet: already room
        assertEquals(1, c.allocate(7, 12 + 1)); // 13 tokens -> 4 pages
        assertEquals(2, c.freePages());
        int[] t7 = c.blockTable(7);
        assertArrayEquals(new int[] {0, 1, 2, 3}, t7);
        assertEquals(2, c.allocate(8, 5));
        assertArrayEquals(new int[] {4, 5}, c.blockTable(8));
        assertEquals(0, c.freePages());
        c.free(7);
        assertEquals(4, c.freePages());
        assertFalse(c.contains(7));
        assertEquals(0, c.length(7));
        c.allocate(9, 16); // reuses exactly the freed pages
        Set<Integer> got = new HashSet<>();
        for (int p : c.blockTable(9)) got.add(p);
        assertEquals(Set.of(0, 1, 2, 3), got);
        c.free(8);
        c.free(9);
        c.free(42); // unknown: no-op
        assertEquals(6, c.freePages());
    }

    @Test
    void physicalSlotFollowsTheBlockTable() {
        PagedKvCache c = new PagedKvCache(1, 8, 4, HKV, D);
        c.allocate(1, 4); // page 0
        c.allocate(2, 8); // pages 1, 2
        c.write(0, 1, 0, new float[4 * HKV * D], new float[4 * HKV * D]);
        c.allocate(1, 6); // seq 1 now 4 written + 6 -> 10 tokens -> 3 pages: 0, 3, 4
        int[] table = c.blockTable(1);
        assertArrayEquals(new int[] {0, 3, 4}, table);
        for (int i = 0; i < 12; i++) {
            assertEquals(table[i / 4] * 4 + i % 4, c.physicalSlot(1, i), "token " + i);
        }
        assertEquals(3 * 4 + 1, c.physicalSlot(1, 5));
        assertEquals(4 * 4 + 3, c.physicalSlot(1, 11));
        assertThrows(IndexOutOfBoundsException.class, () -> c.physicalSlot(1, 12));
        assertThrows(IllegalArgumentException.class, () -> c.physicalSlot(99, 0));
    }

    @Test
    void outOfPagesNamesNeededAndFreeAndTakesNothing() {
        PagedKvCache c = new PagedKvCache(1, 4, 16, HKV, D);
        c.allocate(1, 40); // 3 pages
        PagedKvCache.OutOfPagesException e =
                assertThrows(PagedKvCache.OutOfPagesException.class, () -> c.allocate(2, 33));
        assertEquals(3, e.needed());
        assertEquals(1, e.free());
        assertTrue(e.getMessage().contains("needs 3 more page(s)"), e.getMessage());
        assertTrue(e.getMessage().contains("only 1 of 4 pages are free"), e.getMessage());
        assertEquals(1, c.freePages()); // all or nothing
        assertFalse(c.contains(2));
        c.allocate(2, 16);
        assertEquals(0, c.freePages());
    }

    @Test
    void writeNeedsPagesAndNoHoles() {
        PagedKvCache c = new PagedKvCache(1, 4, 4, HKV, D);
        assertThrows(IllegalArgumentException.class, () -> c.write(0, 1, 0, new float[HKV * D], new float[HKV * D]));
        c.allocate(1, 4);
        assertThrows(
                IllegalStateException.class, () -> c.write(0, 1, 0, new float[5 * HKV * D], new float[5 * HKV * D]));
        assertThrows(IllegalArgumentException.class, () -> c.write(0, 1, 1, new float[HKV * D], new float[HKV * D]));
        assertThrows(
                IllegalArgumentException.class, () -> c.write(0, 1, 0, new float[HKV * D + 1], new float[HKV * D + 1]));
        c.write(0, 1, 0, new float[2 * HKV * D], new float[2 * HKV * D]);
        assertEquals(2, c.length(0, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> c.read(0, 1, 0, 3));
    }

    /** Two sequences written token-interleaved across page boundaries read back exactly, in (Hkv, n, D). */
    @Test
    void gatherEqualsWhatWasWrittenAfterInterleavedWrites() {
        Random r = new Random(1);
        int layers = 3, bs = 4, n1 = 11, n2 = 9;
        PagedKvCache c = new PagedKvCache(layers, 10, bs, HKV, D);
        float[][][] ref = new float[layers][2][]; // [layer][seq] (n, Hkv, D) of K; V = K + 100
        for (int l = 0; l < layers; l++) {
            ref[l][0] = rand(r, n1 * HKV * D);
            ref[l][1] = rand(r, n2 * HKV * D);
        }
        int[] lens = {n1, n2};
        int[] ids = {10, 20};
        int[] pos = {0, 0};
        int[] chunk = {3, 1}; // seq 10 writes 3 at a time, seq 20 one at a time
        while (pos[0] < n1 || pos[1] < n2) {
            for (int s = 0; s < 2; s++) {
                if (pos[s] >= lens[s]) continue;
                int n = Math.min(chunk[s], lens[s] - pos[s]);
                c.allocate(ids[s], n);
                for (int l = 0; l < layers; l++) {
                    float[] k = Arrays.copyOfRange(ref[l][s], pos[s] * HKV * D, (pos[s] + n) * HKV * D);
                    float[] v = k.clone();
                    for (int i = 0; i < v.length; i++) v[i] += 100;
                    c.write(l, ids[s], pos[s], k, v);
                }
                pos[s] += n;
            }
        }
        assertEquals(n1, c.length(10));
        assertEquals(n2, c.length(20));
        // the two tables interleave in the pool
        assertNotEquals(Arrays.toString(c.blockTable(10)), Arrays.toString(c.blockTable(20)));
        for (int l = 0; l < layers; l++) {
            for (int s = 0; s < 2; s++) {
                for (int[] range : new int[][] {{0, lens[s]}, {2, 7}, {5, 5}, {3, lens[s]}}) {
                    PagedKvCache.Gathered g = c.read(l, ids[s], range[0], range[1]);
                    int n = range[1] - range[0];
                    assertArrayEquals(new int[] {HKV, n, D}, g.key().shape);
                    for (int h = 0; h < HKV; h++) {
                        for (int j = 0; j < n; j++) {
                            for (int d = 0; d < D; d++) {
                                float want = ref[l][s][((range[0] + j) * HKV + h) * D + d];
                                assertEquals(want, g.key().data[(h * n + j) * D + d], 0f);
                                assertEquals(want + 100, g.value().data[(h * n + j) * D + d], 0f);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void perLayerLengthsAndReleaseBefore() {
        PagedKvCache c = new PagedKvCache(2, 8, 4, HKV, D);
        c.allocate(1, 10);
        float[] k = rand(new Random(2), 10 * HKV * D);
        c.write(0, 1, 0, k, k);
        assertEquals(10, c.length(0, 1));
        assertEquals(0, c.length(1, 1));
        assertEquals(0, c.length(1)); // not yet in every layer
        c.write(1, 1, 0, k, k);
        assertEquals(10, c.length(1));
        int free = c.freePages();
        assertEquals(2, c.releaseBefore(1, 9)); // pages holding 0..7
        assertEquals(free + 2, c.freePages());
        assertEquals(0, c.releaseBefore(1, 9));
        assertThrows(IllegalStateException.class, () -> c.read(0, 1, 7, 10));
        PagedKvCache.Gathered g = c.read(0, 1, 8, 10);
        for (int i = 0; i < 2 * HKV * D; i++) {
            int j = (i / D) % 2, h = i / (2 * D), d = i % D;
            assertEquals(k[((8 + j) * HKV + h) * D + d], g.key().data[(h * 2 + j) * D + d], 0f);
        }
        c.free(1);
        assertEquals(8, c.freePages());
    }

    @Test
    void concurrentSequencesDoNotInterfere() throws Exception {
        int seqs = 8, n = 37;
        PagedKvCache c = new PagedKvCache(2, seqs * 3, 16, HKV, D);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> fs = new ArrayList<>();
            for (int s = 0; s < seqs; s++) {
                int id = s;
                fs.add(pool.submit(() -> {
                    Random r = new Random(id);
                    float[] all = rand(r, n * HKV * D);
                    for (int t = 0; t < n; t++) {
                        c.allocate(id, 1);
                        float[] one = Arrays.copyOfRange(all, t * HKV * D, (t + 1) * HKV * D);
                        c.write(0, id, t, one, one);
                        c.write(1, id, t, one, one);
                    }
                    PagedKvCache.Gathered g = c.read(1, id, 0, n);
                    for (int h = 0; h < HKV; h++) {
                        for (int j = 0; j < n; j++) {
                            for (int d = 0; d < D; d++) {
                                if (all[(j * HKV + h) * D + d] != g.key().data[(h * n + j) * D + d]) return false;
                            }
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> f : fs) assertTrue(f.get());
        } finally {
            pool.shutdownNow();
        }
        assertEquals(0, c.freePages());
    }
}
