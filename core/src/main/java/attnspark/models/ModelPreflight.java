package attnspark.models;

import attnspark.checkpoint.Checkpoint;
import attnspark.checkpoint.CheckpointException;
import attnspark.checkpoint.ModelFiles;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.javacpp.Pointer;

/**
 * Checks a model before anything is allocated from its sizes: every config.json size is an
 * exact positive integer, the sizes agree with each other and with the tensors on disk (read
 * from the checkpoint's header only), and the weights fit in the memory this JVM can give.
 * The model loaders check every tensor again as they read it; this pass exists so that a
 * config that lies (num_hidden_layers 1e9, intermediate_size 12,000,000) fails with a message
 * naming the field instead of an OutOfMemoryError, and a model too large for the heap fails
 * saying which setting to raise. The loaders ({@code LlamaModel.fromPretrained},
 * {@code BertModel.fromPretrained}) run it on the checkpoint they opened, so every way in is checked.
 */
public final class ModelPreflight {
    private ModelPreflight() {}

    /** A tensor the loader will read, its expected shape, and the config fields that shape comes from. */
    private record Expect(String tensor, int[] shape, String fields) {}

    /** llama / mistral / qwen2 (HF LlamaConfig): sizes, eps, and layer 0's shapes against the checkpoint. */
    public static void checkLlama(HfConfig c, Checkpoint ck) {
        int vocab = c.getInt("vocab_size", 0, 1);
        int hidden = c.getInt("hidden_size", 0, 1);
        int inter = c.getInt("intermediate_size", 0, 1);
        int layers = c.getInt("num_hidden_layers", 0, 1);
        int heads = c.getInt("num_attention_heads", 0, 1);
        int kv = c.getInt("num_key_value_heads", heads, 1);
        if (!c.has("head_dim") && hidden % heads != 0) {
            throw c.invalid(
                    "hidden_size",
                    hidden,
                    "must be num_attention_heads (" + heads + ") x head_dim when head_dim is not given");
        }
        int headDim = c.getInt("head_dim", hidden / heads, 1);
        if (heads % kv != 0)
            throw c.invalid("num_key_value_heads", kv, "must divide num_attention_heads (" + heads + ")");
        c.getInt("max_position_embeddings", 2048, 1);
        positive(c, "rms_norm_eps", 1e-6);
        positive(c, "rope_theta", 10000.0);
        if (c.has("sliding_window")) c.getInt("sliding_window", 0, 1);
        if (c.has("attention_chunk_size")) c.getInt("attention_chunk_size", 0, 1);
        if (c.has("max_window_layers")) c.getInt("max_window_layers", 0, 0);
        if (c.has("bos_token_id") && c.raw("bos_token_id") instanceof Number) {
            int bos = c.getInt("bos_token_id", 0, 0);
            if (bos >= vocab) throw c.invalid("bos_token_id", bos, "must be below vocab_size (" + vocab + ")");
        }
        int qOut = product(c, "head_dim", headDim, heads), kvOut = product(c, "head_dim", headDim, kv);
        checkLayerCount(c, ck, "model.layers.", layers);
        String l0 = "model.layers.0.";
        List<Expect> expect = new ArrayList<>(List.of(
                new Expect("model.embed_tokens.weight", new int[] {vocab, hidden}, "vocab_size, hidden_size"),
                new Expect(
                        l0 + "self_attn.q_proj.weight",
                        new int[] {qOut, hidden},
                        "num_attention_heads x head_dim, hidden_size"),
                new Expect(
                        l0 + "self_attn.k_proj.weight",
                        new int[] {kvOut, hidden},
                        "num_key_value_heads x head_dim, hidden_size"),
                new Expect(
                        l0 + "self_attn.o_proj.weight",
                        new int[] {hidden, qOut},
                        "hidden_size, num_attention_heads x head_dim"),
                new Expect(l0 + "mlp.gate_proj.weight", new int[] {inter, hidden}, "intermediate_size, hidden_size"),
                new Expect(l0 + "mlp.down_proj.weight", new int[] {hidden, inter}, "hidden_size, intermediate_size"),
                new Expect("model.norm.weight", new int[] {hidden}, "hidden_size")));
        if (ck.names().contains("lm_head.weight") && !c.getBool("tie_word_embeddings", false)) {
            expect.add(new Expect("lm_head.weight", new int[] {vocab, hidden}, "vocab_size, hidden_size"));
        }
        checkShapes(c, ck, "", expect);
        checkMemory(ck);
    }

    /** bert / roberta family (HF BertConfig): hidden = heads x head_dim, eps, and the embedding and layer 0 shapes. */
    public static void checkBert(HfConfig c, Checkpoint ck, String prefix) {
        int vocab = c.getInt("vocab_size", 0, 1);
        int hidden = c.getInt("hidden_size", 0, 1);
        int layers = c.getInt("num_hidden_layers", 0, 1);
        int heads = c.getInt("num_attention_heads", 0, 1);
        int inter = c.getInt("intermediate_size", 0, 1);
        int positions = c.getInt("max_position_embeddings", 512, 1);
        int types = c.getInt("type_vocab_size", 2, 1);
        if (hidden % heads != 0)
            throw c.invalid("hidden_size", hidden, "must be num_attention_heads (" + heads + ") x head_dim");
        positive(c, "layer_norm_eps", 1e-12);
        if (c.has("pad_token_id") && c.raw("pad_token_id") instanceof Number) c.getInt("pad_token_id", 0, 0);
        checkLayerCount(c, ck, prefix + "encoder.layer.", layers);
        String l0 = "encoder.layer.0.";
        checkShapes(
                c,
                ck,
                prefix,
                List.of(
                        new Expect(
                                "embeddings.word_embeddings.weight",
                                new int[] {vocab, hidden},
                                "vocab_size, hidden_size"),
                        new Expect(
                                "embeddings.position_embeddings.weight",
                                new int[] {positions, hidden},
                                "max_position_embeddings, hidden_size"),
                        new Expect(
                                "embeddings.token_type_embeddings.weight",
                                new int[] {types, hidden},
                                "type_vocab_size, hidden_size"),
                        new Expect(l0 + "attention.self.query.weight", new int[] {hidden, hidden}, "hidden_size"),
                        new Expect(
                                l0 + "intermediate.dense.weight",
                                new int[] {inter, hidden},
                                "intermediate_size, hidden_size"),
                        new Expect(
                                l0 + "output.dense.weight",
                                new int[] {hidden, inter},
                                "hidden_size, intermediate_size")));
        checkMemory(ck);
    }

    /** A size times a head count, refusing what does not fit an int (rather than wrapping into a plausible size). */
    private static int product(HfConfig c, String key, int value, int times) {
        try {
            return Math.multiplyExact(value, times);
        } catch (ArithmeticException e) {
            throw c.invalid(key, value, "times " + times + " heads overflows a 32-bit size");
        }
    }

    private static void positive(HfConfig c, String key, double dflt) {
        double v = c.getDouble(key, dflt);
        if (!(v > 0) || Double.isInfinite(v)) throw c.invalid(key, c.raw(key), "must be a finite number > 0");
    }

    private static final Pattern LAYER_INDEX = Pattern.compile("(\\d+)\\.");

    /** num_hidden_layers must be the number of layers the checkpoint holds, before an array of that many layers exists. */
    private static void checkLayerCount(HfConfig c, Checkpoint ck, String layerPrefix, int layers) {
        TreeSet<Integer> found = new TreeSet<>();
        for (String n : ck.names()) {
            if (!n.startsWith(layerPrefix)) continue;
            Matcher m = LAYER_INDEX.matcher(n).region(layerPrefix.length(), n.length());
            if (m.lookingAt() && m.group(1).length() < 10) found.add(Integer.parseInt(m.group(1)));
        }
        if (found.size() != layers || (!found.isEmpty() && found.last() != layers - 1)) {
            throw new CheckpointException(c.source() + ": field 'num_hidden_layers' = " + layers + " but " + ck.source()
                    + " holds " + found.size() + " layers (" + layerPrefix + "N with N in " + ModelFiles.capped(found)
                    + "); config.json and the weights must come from the same model.");
        }
    }

    private static void checkShapes(HfConfig c, Checkpoint ck, String prefix, List<Expect> expect) {
        for (Expect e : expect) {
            String name = prefix + e.tensor;
            if (!ck.names().contains(name)) continue; // the loader names missing tensors, with the nearest names
            int[] found = ck.shape(name);
            if (!Arrays.equals(found, e.shape)) {
                throw new CheckpointException(c.source() + ": the sizes (" + e.fields + ") give "
                        + Arrays.toString(e.shape)
                        + " but tensor '" + name + "' in " + ck.source() + " has shape " + Arrays.toString(found)
                        + "; config.json and the weights must come from the same model.");
            }
        }
    }

    /**
     * The weights as float32 must fit in what the JVM can still allocate: the largest tensor
     * twice on the heap (read, then copied into its kernel), everything on the heap plus the
     * off-heap pool the matrix kernels copy their weights into.
     */
    static void checkMemory(Checkpoint ck) {
        long total = 0, largest = 0;
        for (String n : ck.names()) {
            long numel = 1;
            for (int d : ck.shape(n)) numel *= d;
            total += numel * Float.BYTES;
            largest = Math.max(largest, numel * Float.BYTES);
        }
        Runtime rt = Runtime.getRuntime();
        long heapFree = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        long offHeapFree;
        try {
            offHeapFree = Math.max(0, Pointer.maxBytes() - Pointer.totalBytes());
        } catch (LinkageError e) {
            offHeapFree = 0; // no JavaCPP natives here: the kernels keep their weights on the heap
        }
        requireFits(ck.source(), total, largest, heapFree, offHeapFree, rt.maxMemory());
    }

    static void requireFits(String source, long total, long largest, long heapFree, long offHeapFree, long maxHeap) {
        if (2 * largest <= heapFree && total <= heapFree + offHeapFree) return;
        long suggest = Math.max(maxHeap, total + 2 * largest + (maxHeap - heapFree)) * 5 / 4;
        String g = (suggest + (1L << 30) - 1 >> 30) + "g";
        throw new CheckpointException(source + ": the weights need " + gib(total) + " as float32 (largest tensor "
                + gib(largest) + ", held twice while loading) but this JVM can give " + gib(heapFree)
                + " of heap (maximum "
                + gib(maxHeap) + ") and " + gib(offHeapFree)
                + " off-heap; give it more memory: ATTNSPARK_JAVA_OPTS=-Xmx" + g
                + " for scripts/attnspark, spark.executor.memory=" + g
                + " (spark.driver.memory in local mode) for spark-submit.");
    }

    private static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
    }
}
