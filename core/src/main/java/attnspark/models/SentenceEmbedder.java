package attnspark.models;

import attnspark.api.EmbeddingResult;
import attnspark.api.TextEmbedder;
import attnspark.batch.PooledVectors;
import attnspark.batch.TokenBatch;
import attnspark.kernels.Device;
import attnspark.kernels.DeviceBatch;
import attnspark.kernels.FloatSpan;
import attnspark.kernels.Parallel;
import attnspark.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * tokenize (into an Arrow {@link TokenBatch}) -> token-budget forward batches -> model ->
 * pooling (-> L2) into Arrow {@link PooledVectors}. The replica owns the root allocator every
 * batch allocates from as a child; {@link #close()} closes it, which fails loudly if a batch leaked.
 */
public final class SentenceEmbedder implements TextEmbedder {
    private static final int POOL_CHUNK = 64; // sequences per pooling chunk at least

    private final BufferAllocator allocator = new RootAllocator();
    private final Device device = Device.cpu();
    private final TransformerModel model;
    private final TextTokenizer tokenizer;
    private final String pooling;
    private final boolean normalize;
    private final int batchTokens;
    private final Map<String, Object> kwargs;

    public SentenceEmbedder(
            TransformerModel model,
            TextTokenizer tokenizer,
            String pooling,
            boolean normalize,
            int batchTokens,
            Map<String, Object> kwargs) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.pooling = Pooling.check(pooling);
        this.normalize = normalize;
        this.batchTokens = batchTokens;
        this.kwargs = kwargs;
    }

    public TransformerModel model() {
        return model;
    }

    @Override
    public int dimension() {
        return model.hiddenSize();
    }

    @Override
    public List<EmbeddingResult> embed(List<String> texts) {
        try (TokenBatch tokens = tokenizer.encode(texts, allocator)) {
            return embedTokens(tokens);
        }
    }

    /** One result per sequence of {@code tokens}, in its order. */
    public List<EmbeddingResult> embedTokens(TokenBatch tokens) {
        try (PooledVectors pooled = embed(tokens)) {
            List<EmbeddingResult> out = new ArrayList<>(tokens.numSequences());
            for (int s = 0; s < tokens.numSequences(); s++) {
                out.add(new EmbeddingResult(pooled.vector(s), tokens.seqLength(s), tokens.truncated(s)));
            }
            return out;
        }
    }

    /**
     * The packed entry: pooled vector s of the result belongs to sequence s of {@code tokens}.
     * Sequences are grouped into forward batches by token budget (longest first), each cut out of
     * {@code tokens} buffer to buffer and handed to the device; the caller closes the result.
     */
    public PooledVectors embed(TokenBatch tokens) {
        int n = tokens.numSequences(), dim = model.hiddenSize();
        int[] lengths = new int[n];
        for (int s = 0; s < n; s++) lengths[s] = tokens.seqLength(s);
        PooledVectors out = PooledVectors.allocate(allocator, n, dim);
        try {
            for (int[] idx : TokenBudgetBatches.plan(lengths, batchTokens)) {
                try (TokenBatch forward = tokens.select(allocator, idx);
                        DeviceBatch onDevice = device.upload(forward)) {
                    TokenBatch batch = onDevice.host();
                    FloatSpan hidden = model.hiddenStates(batch, kwargs); // (T, D), read before the next batch
                    // on all threads: one thread pooling a thousand short texts left the other idle for
                    // ~1 % of an STS-B pass; each sequence's vector is the same whichever thread pools it
                    Parallel.forRange(idx.length, POOL_CHUNK, (from, to) -> {
                        for (int j = from; j < to; j++) {
                            out.set(
                                    idx[j],
                                    Pooling.pool(
                                            pooling, hidden, dim, batch.seqStart(j), batch.seqLength(j), normalize));
                        }
                    });
                }
            }
            return out;
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    @Override
    public void close() {
        tokenizer.close();
        allocator.close();
    }
}
