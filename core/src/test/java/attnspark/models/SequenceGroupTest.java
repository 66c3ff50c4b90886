package attnspark.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SequenceGroupTest {
    @Test
    void groupsCoverEverySequenceOnceWithinTheTarget() {
        Random rnd = new Random(5);
        for (int trial = 0; trial < 200; trial++) {
            int sequences = 1 + rnd.nextInt(60), target = 1 + rnd.nextInt(120);
            int[] offsets = new int[sequences + 1];
            for (int b = 0; b < sequences; b++)
                offsets[b + 1] = offsets[b] + 1 + rnd.nextInt(trial % 2 == 0 ? 40 : 300);
            SequenceGroup[] groups = SequenceGroup.of(offsets, sequences, target);
            int[] groupOf = new int[sequences];
            Arrays.fill(groupOf, -1);
            for (int gi = 0; gi < groups.length; gi++) {
                SequenceGroup g = groups[gi];
                if (gi > 0)
                    assertTrue(groups[gi - 1].rows() >= g.rows(), "largest first: " + groups[gi - 1] + ", " + g);
                assertTrue(g.rows() <= target || g.sequences() == 1, "over the target with several sequences: " + g);
                // which batch sequence starts at the group's first row
                int first = Arrays.binarySearch(offsets, 0, sequences, g.firstRow());
                assertTrue(first >= 0, "a group starts inside a sequence: " + g);
                assertEquals(g.sequences() + 1, g.cuSeqlens().length);
                for (int i = 0; i < g.sequences(); i++) {
                    int b = first + i;
                    assertEquals(-1, groupOf[b], "sequence " + b + " in two groups");
                    groupOf[b] = gi;
                    assertEquals(offsets[b] - g.firstRow(), g.cuSeqlens()[i], "rebased start of sequence " + b);
                    assertEquals(offsets[b + 1] - g.firstRow(), g.cuSeqlens()[i + 1], "rebased end of sequence " + b);
                }
                assertEquals(g.rows(), g.cuSeqlens()[g.sequences()]);
                // greedy: the next sequence would not have fitted
                int next = first + g.sequences();
                if (next < sequences)
                    assertTrue(offsets[next + 1] - g.firstRow() > target, "could hold one more: " + g);
            }
            for (int b = 0; b < sequences; b++) assertTrue(groupOf[b] >= 0, "sequence " + b + " in no group");
        }
    }

    @Test
    void equalGroupsKeepTheirBatchOrder() {
        SequenceGroup[] groups = SequenceGroup.of(new int[] {0, 3, 5, 8, 10, 20}, 5, 5);
        assertEquals(3, groups.length);
        assertEquals(10, groups[0].firstRow()); // the 10-row sequence alone
        assertEquals(0, groups[1].firstRow());
        assertArrayEquals(new int[] {0, 3, 5}, groups[1].cuSeqlens());
        assertEquals(5, groups[2].firstRow());
        assertArrayEquals(new int[] {0, 3, 5}, groups[2].cuSeqlens());
    }
}
