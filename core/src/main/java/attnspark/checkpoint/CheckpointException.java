package attnspark.checkpoint;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * A checkpoint that cannot be used as asked. The message is meant to be read by whoever has to
 * fix it: it names the file, the tensor where there is one, what was expected and what was found,
 * and what to try next. Hostile or damaged files end here rather than in an allocation failure or
 * an exception from deep inside a parser.
 */
public class CheckpointException extends RuntimeException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }

    /** "no tensor 'x'" with a few names that look alike, because the usual cause is a prefix or layer-count mismatch. */
    public static CheckpointException unknownTensor(String source, String name, Collection<String> names) {
        List<String> near = nearest(name, names, 5);
        return new CheckpointException(source + ": no tensor '" + name + "' among its " + names.size() + " tensors"
                + (near.isEmpty() ? "" : "; nearest names: " + near)
                + ". Check that config.json (model_type, layer count, prefix) matches this checkpoint.");
    }

    /** Up to {@code k} of {@code names} closest to {@code name} (edit distance, then shared prefix); also used for option names. */
    public static List<String> nearest(String name, Collection<String> names, int k) {
        // Edit distance is quadratic per pair; on huge name lists fall back to the shared prefix only.
        boolean cheap = names.size() > 5000;
        record Scored(String n, int prefix, int dist) {}
        List<Scored> all = new ArrayList<>(names.size());
        for (String n : names) {
            all.add(new Scored(n, commonPrefix(name, n), cheap ? 0 : editDistance(name, n)));
        }
        all.sort(Comparator.comparingInt((Scored s) -> cheap ? -s.prefix : s.dist)
                .thenComparingInt(s -> -s.prefix)
                .thenComparing(s -> s.n));
        List<String> out = new ArrayList<>(k);
        for (int i = 0; i < Math.min(k, all.size()); i++) out.add(all.get(i).n);
        return out;
    }

    private static int commonPrefix(String a, String b) {
        int n = Math.min(a.length(), b.length()), i = 0;
        while (i < n && a.charAt(i) == b.charAt(i)) i++;
        return i;
    }

    private static int editDistance(String a, String b) {
        if (a.length() > 300 || b.length() > 300) return Math.abs(a.length() - b.length()) + 300;
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
