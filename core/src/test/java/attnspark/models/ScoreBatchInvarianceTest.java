package attnspark.models;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.api.ScoreResult;
import attnspark.models.llama.CausalLmScorer;
import attnspark.models.llama.LlamaModel;
import attnspark.testutil.Shared;
import attnspark.testutil.TrialThreads;
import attnspark.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Property: a document's per-token log-probs are the same bits whatever batch it is scored in
 * (other documents, their order, the batch token budget, the threads that compute it), for every built-in backend usable for
 * scoring, on the trained stories260K. Each document scored alone is the reference; seeded random
 * batchings must reproduce {@code Float.floatToRawIntBits} of every value.
 */
class ScoreBatchInvarianceTest {
    static final int DOCS = 14, TRIALS = 3;

    /** Random documents of 2..maxLen tokens, BOS first (ids of the 512-token vocabulary). */
    static TextTokenizer.Tokens[] documents(Random r, int n, int maxLen) {
        TextTokenizer.Tokens[] docs = new TextTokenizer.Tokens[n];
        for (int d = 0; d < n; d++) {
            int[] ids = new int[2 + r.nextInt(maxLen - 1)];
            ids[0] = 1;
            for (int i = 1; i < ids.length; i++) ids[i] = 3 + r.nextInt(509);
            docs[d] = new TextTokenizer.Tokens(ids, false);
        }
        return docs;
    }

    static float[] alone(LlamaModel m, TextTokenizer.Tokens doc) {
        return new CausalLmScorer(m, null, 1 << 20, Map.of())
                .scoreTokens(new TextTokenizer.Tokens[] {doc}, true)
                .get(0)
                .tokenLogprobs();
    }

    static void assertInvariant(LlamaModel m, long seed, int maxLen) {
        Random r = new Random(seed);
        TextTokenizer.Tokens[] docs = documents(r, DOCS, maxLen);
        float[][] want = new float[DOCS][];
        for (int d = 0; d < DOCS; d++) want[d] = alone(m, docs[d]);
        for (int trial = 0; trial < TRIALS; trial++) {
            List<Integer> order = new ArrayList<>();
            for (int d = 0; d < DOCS; d++) order.add(d);
            Collections.shuffle(order, r);
            int keep = 2 + r.nextInt(DOCS - 1); // a random subset, random order
            TextTokenizer.Tokens[] batch = new TextTokenizer.Tokens[keep];
            for (int i = 0; i < keep; i++) batch[i] = docs[order.get(i)];
            int budget = maxLen + r.nextInt(6 * maxLen); // one to several docs per batch
            List<ScoreResult> got;
            try (var threads = TrialThreads.of(trial)) {
                got = new CausalLmScorer(m, null, budget, Map.of()).scoreTokens(batch, true);
            }
            for (int i = 0; i < keep; i++) {
                int d = order.get(i);
                float[] lp = got.get(i).tokenLogprobs();
                assertEquals(want[d].length, lp.length);
                for (int t = 0; t < lp.length; t++) {
                    if (Float.floatToRawIntBits(want[d][t]) != Float.floatToRawIntBits(lp[t])) {
                        fail(m.attnImplementation() + ": doc " + d + " (" + docs[d].ids().length + " tokens) token "
                                + (t + 1)
                                + " in trial " + trial + " (budget " + budget + ", " + keep + " docs, threads "
                                + TrialThreads.describe(trial) + "): " + lp[t]
                                + " vs alone " + want[d][t]);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "eager",
                "sdpa",
                "flex_attention",
                "flash_attention_2",
                "paged|eager",
                "paged|sdpa",
                "paged|flash_attention_2"
            })
    void logProbBitsDoNotDependOnTheBatch(String attn) {
        assertInvariant(LlamaModel.fromPretrained(Shared.stories260k(), attn), attn.hashCode(), 90);
    }

    /** attention_chunk_size splits a document into per-chunk attention calls: still one answer per document. */
    @ParameterizedTest
    @ValueSource(strings = {"eager", "sdpa", "flex_attention"})
    void chunkedAttentionToo(String attn) {
        HfConfig c = HfConfig.read(Shared.stories260k().resolve("config.json")).with("attention_chunk_size", 16);
        assertInvariant(LlamaModel.fromPretrained(c, Shared.stories260k(), attn), 11 + attn.hashCode(), 60);
    }
}
