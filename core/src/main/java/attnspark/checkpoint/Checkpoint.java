package attnspark.checkpoint;

import attnspark.tensor.FloatTensor;
import java.util.Arrays;
import java.util.Collection;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Named tensors of a pretrained model, read as float32 on demand. Implementations list names and
 * shapes up front (cheap, from headers) and read values only when {@link #tensor} is called, so a
 * loader can validate a whole checkpoint against a config before paying for the data.
 * Implementations are safe for concurrent {@code tensor} calls.
 */
public interface Checkpoint extends AutoCloseable {
    /** The path (file, or index file for sharded checkpoints) used in messages. */
    String source();

    Set<String> names();

    /** The shape of a tensor as the model expects it (after any layout fix-up), without reading its data. */
    int[] shape(String name);

    /** The tensor converted to float32; an unknown name fails listing a few nearby names. */
    FloatTensor tensor(String name);

    /** Like {@link #tensor(String)} but checks the shape first, before any data is read. */
    default FloatTensor tensor(String name, int... expectedShape) {
        requireShape(name, expectedShape);
        return tensor(name);
    }

    /** Fails naming the tensor unless it exists with exactly this shape; reads no data. */
    default void requireShape(String name, int... expectedShape) {
        int[] found = shape(name);
        if (!Arrays.equals(found, expectedShape)) {
            throw new CheckpointException(
                    source() + ": tensor '" + name + "' has shape " + Arrays.toString(found)
                            + ", the config expects " + Arrays.toString(expectedShape)
                            + ". Check that config.json belongs to this checkpoint (hidden_size, intermediate_size, vocab_size, heads).");
        }
    }

    /**
     * For model loaders after loading: fails naming every tensor the model asked for that is absent
     * ("missing") and every tensor of the checkpoint it did not read ("unexpected"). Entries of
     * {@code ignorable} are exact names, or prefixes when they end in '*' (e.g. buffers like
     * {@code embeddings.position_ids} or a head the model does not use: {@code "lm_head.*"}).
     */
    default void checkAllUsed(Collection<String> used, Collection<String> ignorable) {
        Set<String> names = names();
        Set<String> missing = new TreeSet<>();
        for (String u : used) if (!names.contains(u)) missing.add(u);
        Set<String> unexpected = new TreeSet<>();
        for (String n : names) if (!used.contains(n) && !matchesAny(n, ignorable)) unexpected.add(n);
        if (missing.isEmpty() && unexpected.isEmpty()) return;
        StringBuilder sb = new StringBuilder(source()).append(": the checkpoint does not match the model:");
        if (!missing.isEmpty())
            sb.append(" missing tensors ").append(ModelFiles.capped(missing)).append(';');
        if (!unexpected.isEmpty())
            sb.append(" unexpected tensors the model does not use ")
                    .append(ModelFiles.capped(unexpected))
                    .append(';');
        sb.append(
                " check that config.json (model_type, num_hidden_layers, tie_word_embeddings) matches this checkpoint.");
        throw new CheckpointException(sb.toString());
    }

    private static boolean matchesAny(String name, Collection<String> patterns) {
        for (String p : patterns) {
            boolean match = p.startsWith("*")
                    ? name.endsWith(p.substring(1))
                    : p.endsWith("*") ? name.startsWith(p.substring(0, p.length() - 1)) : name.equals(p);
            if (match) return true;
        }
        return false;
    }

    /**
     * Fails naming the tensor when it holds a NaN or an infinity: such a weight turns every
     * output it touches into NaN, which would otherwise come out as plausible-looking rows.
     * One pass over the values, paid once at load.
     */
    static float[] requireFinite(String source, String name, int[] shape, float[] values) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                int bad = 0;
                for (float v : values) if (!Float.isFinite(v)) bad++;
                throw new CheckpointException(source + ": tensor '" + name + "' (shape " + Arrays.toString(shape)
                        + ") holds "
                        + String.format(Locale.ROOT, "%,d", bad) + " non-finite value(s), the first " + values[i]
                        + " at flat index " + i
                        + "; the weights are corrupt (or diverged in training): use another copy of the model.");
            }
        }
        return values;
    }

    /** Releases file handles; no checked exception so try-with-resources stays light. */
    @Override
    default void close() {}
}
