package attnspark.models;

import attnspark.api.EmbeddingResult;
import attnspark.api.TextEmbedder;
import attnspark.tokenizer.TextTokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** tokenize -> token-budget batches -> model -> pooling (-> L2). */
public final class SentenceEmbedder implements TextEmbedder {
    private final TransformerModel model;
    private final TextTokenizer tokenizer;
    private final String pooling;
    private final boolean normalize;
    private final int batchTokens;
    private final Map<String, Object> kwargs;

    public SentenceEmbedder(TransformerModel model, TextTokenizer tokenizer, String pooling, boolean normalize,
                            int batchTokens, Map<String, Object> kwargs) {
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
        TextTokenizer.Tokens[] tokens = tokenizer.encode(texts);
        return embedTokens(tokens);
    }

    public List<EmbeddingResult> embedTokens(TextTokenizer.Tokens[] tokens) {
        int[] lengths = new int[tokens.length];
        for (int i = 0; i < tokens.length; i++) lengths[i] = tokens[i].ids().length;
        EmbeddingResult[] out = new EmbeddingResult[tokens.length];
        for (int[] idx : TokenBudgetBatches.plan(lengths, batchTokens)) {
            int[][] ids = new int[idx.length][];
            for (int j = 0; j < idx.length; j++) ids[j] = tokens[idx[j]].ids();
            SequenceBatch batch = new SequenceBatch(ids);
            float[] hidden = model.forward(batch, kwargs);                   // (T, D)
            for (int j = 0; j < idx.length; j++) {
                float[] v = Pooling.pool(pooling, hidden, model.hiddenSize(), batch.offsets[j], batch.length(j), normalize);
                out[idx[j]] = new EmbeddingResult(v, batch.length(j), tokens[idx[j]].truncated());
            }
        }
        return new ArrayList<>(Arrays.asList(out));
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
