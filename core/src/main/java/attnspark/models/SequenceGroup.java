package attnspark.models;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Consecutive whole sequences of a packed batch, taken together through a layer on one thread:
 * rows {@code firstRow .. firstRow+rows-1} of the batch, sequence i of the group at rows
 * {@code cuSeqlens[i] .. cuSeqlens[i+1]-1} counted from {@code firstRow} (flash-attn's varlen
 * offsets, rebased to the group).
 */
public record SequenceGroup(int firstRow, int rows, int sequences, int[] cuSeqlens) {
    /**
     * The batch's sequences ({@code offsets}: its (B+1) cu_seqlens) in groups of consecutive
     * sequences of at most {@code targetRows} rows each, or one longer sequence alone, largest
     * group first: threads that claim them in that order end close together.
     */
    public static SequenceGroup[] of(int[] offsets, int sequences, int targetRows) {
        List<SequenceGroup> groups = new ArrayList<>();
        for (int first = 0, end; first < sequences; first = end) {
            end = first + 1;
            while (end < sequences && offsets[end + 1] - offsets[first] <= targetRows) end++;
            int[] local = new int[end - first + 1];
            for (int i = 0; i < local.length; i++) local[i] = offsets[first + i] - offsets[first];
            groups.add(new SequenceGroup(offsets[first], local[local.length - 1], end - first, local));
        }
        groups.sort(Comparator.comparingInt(SequenceGroup::rows).reversed());
        return groups.toArray(new SequenceGroup[0]);
    }

    @Override
    public String toString() {
        return "SequenceGroup[rows " + firstRow + ".." + (firstRow + rows - 1) + ", cu_seqlens "
                + Arrays.toString(cuSeqlens) + "]";
    }
}
