package attnspark.models;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Groups sequences into forward batches by token budget: sorted by length so the padded
 * attention layout wastes little, each batch holding at most {@code budget} padded tokens
 * (a longer sequence still gets a batch of its own).
 */
public final class TokenBudgetBatches {
    private TokenBudgetBatches() {}

    /** Lists of original indices, longest sequences first. */
    public static List<int[]> plan(int[] lengths, int budget) {
        Integer[] order = new Integer[lengths.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> lengths[i]).reversed());
        List<int[]> batches = new ArrayList<>();
        int i = 0;
        while (i < order.length) {
            int maxLen = Math.max(1, lengths[order[i]]);
            int n = Math.max(1, Math.min(order.length - i, budget / maxLen));
            int[] idx = new int[n];
            for (int j = 0; j < n; j++) idx[j] = order[i + j];
            batches.add(idx);
            i += n;
        }
        return batches;
    }
}
