package attnspark.models;

import attnspark.checkpoint.Checkpoint;
import attnspark.kernels.Kernels;
import attnspark.kernels.Linear;
import attnspark.tensor.FloatTensor;
import java.util.HashSet;
import java.util.Set;

/**
 * Reads a model's tensors by name and shape, remembering which were used so the loader can
 * report unexpected ones. Missing tensors and wrong shapes fail naming the file and tensor.
 */
public final class Weights {
    private final Checkpoint checkpoint;
    private final String prefix;
    private final Set<String> used = new HashSet<>();

    public Weights(Checkpoint checkpoint, String prefix) {
        this.checkpoint = checkpoint;
        this.prefix = prefix;
    }

    public boolean has(String name) {
        return checkpoint.names().contains(prefix + name);
    }

    public FloatTensor get(String name, int... shape) {
        used.add(prefix + name);
        FloatTensor t = checkpoint.tensor(prefix + name, shape);
        Checkpoint.requireFinite(checkpoint.source(), prefix + name, shape, t.data);
        return t;
    }

    public FloatTensor getOptional(String name, int... shape) {
        return has(name) ? get(name, shape) : null;
    }

    /** nn.Linear weight (out, in) and optional bias. */
    public Linear linear(String name, int out, int in, boolean bias) {
        FloatTensor w = get(name + ".weight", out, in);
        FloatTensor b = bias ? get(name + ".bias", out) : getOptional(name + ".bias", out);
        return Kernels.linear(w, b);
    }

    /** Several nn.Linear stacked along the output axis, so one gemm computes them all (q|k|v, gate|up). */
    public Linear fusedLinear(int in, String[] names, int[] outs) {
        // every shape is checked before the fused array exists: a config that lies about a size
        // must fail naming the tensor, not allocate gigabytes first
        long total = 0;
        for (int i = 0; i < names.length; i++) {
            checkpoint.requireShape(prefix + names[i] + ".weight", outs[i], in);
            total += outs[i];
        }
        float[] w = new float[Math.toIntExact(total * in)];
        float[] b = null;
        int row = 0;
        for (int i = 0; i < names.length; i++) {
            FloatTensor wi = get(names[i] + ".weight", outs[i], in);
            System.arraycopy(wi.data, 0, w, row * in, outs[i] * in);
            FloatTensor bi = getOptional(names[i] + ".bias", outs[i]);
            if (bi != null) {
                if (b == null) b = new float[(int) total];
                System.arraycopy(bi.data, 0, b, row, outs[i]);
            }
            row += outs[i];
        }
        return Kernels.linear(new FloatTensor(w, (int) total, in), b == null ? null : new FloatTensor(b, (int) total));
    }

    /**
     * Fails naming every tensor of the checkpoint the model did not read. {@code ignorable}: names
     * relative to the prefix; {@code heads}: names from the checkpoint root, for task heads the
     * base model never reads (HF loads such checkpoints with a warning). A '*' suffix is a prefix
     * match, a '*' start a suffix match.
     */
    public void checkNoneUnexpected(Set<String> ignorable, Set<String> heads) {
        Set<String> patterns = new HashSet<>(heads);
        for (String n : ignorable) patterns.add(n.startsWith("*") ? n : prefix + n);
        checkpoint.checkAllUsed(used, patterns);
    }
}
