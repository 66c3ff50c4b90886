package attnspark.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import attnspark.tokenizer.TextTokenizer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * The peer: ONNX Runtime on the model's ONNX file at its best CPU setting (all graph
 * optimisations, one intra-op thread per core), fed like the sentence-transformers pipeline:
 * the same tokenizer, texts sorted by length, fixed-size batches padded to their longest text,
 * then mean pooling over real tokens and L2 normalisation (all-MiniLM-L6-v2's pooling).
 */
final class OrtEmbedder implements AutoCloseable {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final TextTokenizer tokenizer;
    private final Set<String> inputs;

    OrtEmbedder(Path onnx, Path tokenizerJson, int maxLength, int threads) throws OrtException {
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setIntraOpNumThreads(threads);
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        session = env.createSession(onnx.toString(), so);
        inputs = session.getInputNames();
        tokenizer = new TextTokenizer(tokenizerJson, maxLength);
    }

    String version() {
        return env.getVersion();
    }

    /** Token ids of every text (special tokens included, truncated at max length): what both engines see. */
    int[] lengths(List<String> texts) {
        return Arrays.stream(tokenizer.encode(texts))
                .mapToInt(t -> t.ids().length)
                .toArray();
    }

    /** Tokenise, run in length-sorted batches of {@code batchSize}, pool: one unit vector per text, input order. */
    float[][] embed(List<String> texts, int batchSize) throws OrtException {
        TextTokenizer.Tokens[] tokens = tokenizer.encode(texts);
        Integer[] order = byLengthDescending(
                Arrays.stream(tokens).mapToInt(t -> t.ids().length).toArray());
        float[][] out = new float[texts.size()][];
        for (int start = 0; start < order.length; start += batchSize) {
            int b = Math.min(batchSize, order.length - start);
            int seq = tokens[order[start]].ids().length; // longest first: this batch's padded length
            long[] ids = new long[b * seq], mask = new long[b * seq], types = new long[b * seq]; // (B, S)
            for (int i = 0; i < b; i++) {
                int[] t = tokens[order[start + i]].ids();
                for (int j = 0; j < t.length; j++) {
                    ids[i * seq + j] = t[j];
                    mask[i * seq + j] = 1;
                }
            }
            long[] shape = {b, seq};
            Map<String, OnnxTensor> feed = new HashMap<>();
            try {
                feed.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape));
                feed.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape));
                if (inputs.contains("token_type_ids"))
                    feed.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape));
                try (OrtSession.Result res = session.run(feed)) {
                    FloatBuffer h = ((OnnxTensor) res.get(0)).getFloatBuffer(); // last_hidden_state (B, S, H)
                    int hidden = h.capacity() / (b * seq);
                    for (int i = 0; i < b; i++) {
                        int n = tokens[order[start + i]].ids().length;
                        out[order[start + i]] = meanPoolNormalize(h, i * seq * hidden, n, hidden);
                    }
                }
            } finally {
                feed.values().forEach(OnnxTensor::close);
            }
        }
        return out;
    }

    private static float[] meanPoolNormalize(FloatBuffer h, int offset, int n, int hidden) {
        float[] v = new float[hidden];
        for (int j = 0; j < n; j++) for (int d = 0; d < hidden; d++) v[d] += h.get(offset + j * hidden + d);
        double norm = 0;
        for (float x : v) norm += (double) x * x;
        float scale = (float) (1 / Math.max(Math.sqrt(norm), 1e-12));
        for (int d = 0; d < hidden; d++) v[d] *= scale;
        return v;
    }

    /** Mean padded tokens per batch (B x longest length) when {@code lengths} run in sorted batches of {@code batchSize}. */
    static double meanPaddedBatchTokens(int[] lengths, int batchSize) {
        Integer[] order = byLengthDescending(lengths);
        long padded = 0;
        int batches = 0;
        for (int start = 0; start < order.length; start += batchSize, batches++) {
            padded += (long) Math.min(batchSize, order.length - start) * lengths[order[start]];
        }
        return batches == 0 ? 0 : (double) padded / batches;
    }

    private static Integer[] byLengthDescending(int[] lengths) {
        Integer[] order = IntStream.range(0, lengths.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> lengths[i]).reversed());
        return order;
    }

    @Override
    public void close() throws OrtException {
        tokenizer.close();
        session.close();
    }
}
