package attnspark.models.tiny;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import attnspark.api.EmbeddingResult;
import attnspark.api.ModelOptions;
import attnspark.api.TextEmbedder;
import attnspark.attention.dispatch.AttentionInterface;
import attnspark.checkpoint.BundledModel;
import attnspark.kernels.CpuInfo;
import attnspark.load.Models;
import attnspark.models.HfConfig;
import attnspark.models.SentenceEmbedder;
import attnspark.models.SequenceBatch;
import attnspark.models.SequenceGroup;
import attnspark.models.bert.BertModel;
import attnspark.testutil.TrialThreads;
import attnspark.tokenizer.TextTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Batch invariance, bitwise, as a property: the same sequence gives the same bits whatever
 * batch it lands in (which other sequences, how many, in what order, what padding the batch
 * would need, what token budget) and whatever threads compute it. Seeded random batchings of a set of sequences are compared
 * with {@link Float#floatToRawIntBits} against each sequence run alone, for every built-in
 * attention backend that can embed (the registry's names, less paged|* which needs a KV cache
 * and the GPU-only ones), on tiny random BERTs (last hidden state) and on the bundled
 * all-MiniLM-L6-v2 (pooled, normalised vectors through {@link SentenceEmbedder}).
 */
class EmbeddingBatchInvarianceTest {
    @TempDir
    Path tmp;

    static List<String> backends() {
        List<String> names = new ArrayList<>();
        for (String name : AttentionInterface.BUILT_IN) {
            if (name.startsWith("paged|") || AttentionInterface.ALL.get(name) instanceof AttentionInterface.Unavailable)
                continue;
            names.add(name);
        }
        Collections.sort(names);
        return names;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void tinyBertHiddenStateBitsDoNotDependOnTheBatch(String attn) throws Exception {
        // head dim 4 (plain tails) and head dim 32 (two full 16-lane vectors) reach different kernel paths
        Map<String, Object> narrow = TinyBertTest.base();
        Map<String, Object> wide = TinyBertTest.cfg(c -> {
            c.put("hidden_size", 64);
            c.put("num_attention_heads", 2);
            c.put("intermediate_size", 96);
        });
        // an MLP 8,192 wide: BertModel runs it in blocks of rows sized to half an L2 (32 rows on 2 MiB),
        // so a batch's sequences straddle block boundaries that the sequence alone never meets
        Map<String, Object> deep = TinyBertTest.cfg(c -> {
            c.put("hidden_size", 32);
            c.put("num_attention_heads", 2);
            c.put("intermediate_size", 8192);
        });
        assertTrue(BertModel.mlpBlockRows(8192) < 9 * 16, "MLP blocks of " + BertModel.mlpBlockRows(8192) + " rows");
        int seed = 0;
        for (Map<String, Object> config : List.of(narrow, wide, deep)) {
            seed++;
            TinyCheckpoint ck = TinyCheckpoint.bert(config, "", "F32", 100 + seed);
            Path dir = ck.write(tmp.resolve("m" + seed));
            BertModel model = BertModel.fromPretrained(HfConfig.read(dir.resolve("config.json")), dir, attn);
            Random rnd = new Random(seed);
            int n = 14, D = model.hiddenSize();
            int[] lengths = new int[n];
            for (int i = 0; i < n; i++) lengths[i] = 1 + rnd.nextInt(16);
            int[][] ids = TinyBertTest.ids(seed, 50, lengths);
            float[][] alone = new float[n][];
            for (int i = 0; i < n; i++) alone[i] = model.forward(new SequenceBatch(new int[][] {ids[i]}), Map.of());
            for (int trial = 0; trial < 12; trial++) {
                List<Integer> order = shuffled(n, rnd);
                int at = 0;
                while (at < n) {
                    int size = 1 + rnd.nextInt(Math.min(n - at, 9));
                    int[][] batchIds = new int[size][];
                    for (int j = 0; j < size; j++) batchIds[j] = ids[order.get(at + j)];
                    SequenceBatch batch = new SequenceBatch(batchIds);
                    float[] hidden;
                    try (var threads = TrialThreads.of(trial)) {
                        hidden = model.forward(batch, Map.of());
                    }
                    for (int j = 0; j < size; j++) {
                        int i = order.get(at + j);
                        for (int x = 0; x < lengths[i] * D; x++) {
                            int want = Float.floatToRawIntBits(alone[i][x]),
                                    got = Float.floatToRawIntBits(hidden[batch.offsets[j] * D + x]);
                            if (want != got)
                                fail(attn + " config " + seed + " trial " + trial + " (threads "
                                        + TrialThreads.describe(trial) + "): sequence " + i + " (length "
                                        + lengths[i]
                                        + ") at place " + j + " of a batch of " + size + ", token " + x / D + " dim "
                                        + x % D
                                        + " differs in bits from the sequence alone: " + alone[i][x] + " vs "
                                        + Float.intBitsToFloat(got));
                        }
                    }
                    at += size;
                }
            }
        }
    }

    /**
     * A batch of many sequences runs through BertModel's packed layers by groups of whole
     * sequences, each group on one thread from its q|k|v projection through LayerNorm 2
     * (BertModel.groupRows); a sequence alone is one group and takes the batch-wide path. Batches
     * of 36-48 sequences of 1-24 tokens in random order, on 1, 3 and a varying count of threads,
     * against each sequence alone, bit for bit, on sdpa (the backend whose packed path groups). An
     * MLP as wide as makes the groups 32 rows on this machine's L2 (16,384 on 2 MiB), so that
     * every batch has many, most of several sequences.
     */
    @Test
    void tinyBertBitsDoNotDependOnTheSequenceGroup() throws Exception {
        int intermediate = (int) Math.max(1024, CpuInfo.l2CacheBytes() / 128);
        Map<String, Object> config = TinyBertTest.cfg(c -> {
            c.put("hidden_size", 32);
            c.put("num_attention_heads", 2);
            c.put("intermediate_size", intermediate);
            c.put("max_position_embeddings", 64);
        });
        Path dir = TinyCheckpoint.bert(config, "", "F32", 140).write(tmp.resolve("grouped"));
        BertModel model = BertModel.fromPretrained(HfConfig.read(dir.resolve("config.json")), dir, "sdpa");
        int target = BertModel.groupRows(intermediate), n = 48, D = model.hiddenSize();
        Random rnd = new Random(40);
        int[] lengths = new int[n];
        for (int i = 0; i < n; i++) lengths[i] = 1 + rnd.nextInt(24);
        int[][] ids = TinyBertTest.ids(40, 50, lengths);
        float[][] alone = new float[n][];
        for (int i = 0; i < n; i++) alone[i] = model.forward(new SequenceBatch(new int[][] {ids[i]}), Map.of());
        for (int trial = 0; trial < 9; trial++) {
            List<Integer> order = shuffled(n, rnd);
            int size = 36 + rnd.nextInt(n - 35);
            int[][] batchIds = new int[size][];
            for (int j = 0; j < size; j++) batchIds[j] = ids[order.get(j)];
            SequenceBatch batch = new SequenceBatch(batchIds);
            int groups = SequenceGroup.of(batch.offsets, batch.batch, target).length;
            assertTrue(
                    groups >= 4 * 3,
                    "trial " + trial + ": " + groups + " groups of up to " + target
                            + " rows; the model runs by groups from 4 per thread");
            float[] hidden;
            try (var threads = TrialThreads.of(trial)) {
                hidden = model.forward(batch, Map.of());
            }
            for (int j = 0; j < size; j++) {
                int i = order.get(j);
                for (int x = 0; x < lengths[i] * D; x++) {
                    int want = Float.floatToRawIntBits(alone[i][x]),
                            got = Float.floatToRawIntBits(hidden[batch.offsets[j] * D + x]);
                    if (want != got)
                        fail("trial " + trial + " (threads " + TrialThreads.describe(trial) + "): sequence " + i
                                + " (length " + lengths[i] + ") at place " + j + " of a batch of " + size + " in "
                                + groups + " groups, token " + x / D + " dim " + x % D
                                + " differs in bits from the sequence alone: " + alone[i][x] + " vs "
                                + Float.intBitsToFloat(got));
                }
            }
        }
    }

    static final List<String> TEXTS = List.of(
            "A man is playing a guitar.",
            "Short.",
            "The quick brown fox jumps over the lazy dog near the riverbank on a sunny afternoon.",
            "Spark executors run one model replica each, batched by token budget, and write one row per input text.",
            "A woman is slicing an onion.",
            "Ünïcödé façade naïve café, 東京タワー",
            "word ".repeat(70) + "end");

    /** One load of the model, every backend switched in at run time (loading it per backend costs more than the checks). */
    @Test
    void miniLmVectorBitsDoNotDependOnBudgetOrderOrNeighbours() {
        Path dir = BundledModel.materialize();
        try (TextEmbedder loaded = Models.loadEmbedder(ModelOptions.defaults());
                TextTokenizer tokenizer = new TextTokenizer(dir.resolve("tokenizer.json"), 256)) {
            SentenceEmbedder base = (SentenceEmbedder) loaded;
            for (String attn : backends()) {
                base.model().setAttnImplementation(attn);
                List<float[]> alone = new ArrayList<>();
                for (String t : TEXTS) alone.add(base.embed(List.of(t)).get(0).vector());
                Random rnd = new Random(6);
                int[] budgets = {1, 40, 100, 256, 16384};
                for (int trial = 0; trial < 4; trial++) {
                    int budget = budgets[rnd.nextInt(budgets.length)];
                    List<Integer> order = shuffled(TEXTS.size(), rnd);
                    List<String> texts = new ArrayList<>();
                    for (int i : order) texts.add(TEXTS.get(i));
                    SentenceEmbedder embedder =
                            new SentenceEmbedder(base.model(), tokenizer, "mean", true, budget, Map.of());
                    List<EmbeddingResult> out;
                    try (var threads = TrialThreads.of(trial)) {
                        out = embedder.embed(texts);
                    }
                    assertEquals(texts.size(), out.size());
                    for (int j = 0; j < texts.size(); j++) {
                        float[] want = alone.get(order.get(j)), got = out.get(j).vector();
                        for (int d = 0; d < want.length; d++) {
                            if (Float.floatToRawIntBits(want[d]) != Float.floatToRawIntBits(got[d]))
                                fail(attn + " budget " + budget
                                        + " trial " + trial + " (threads " + TrialThreads.describe(trial) + "): text "
                                        + order.get(j) + " dim " + d
                                        + " differs in bits from the text alone: "
                                        + want[d] + " vs " + got[d]);
                        }
                    }
                }
            }
        }
    }

    static List<Integer> shuffled(int n, Random rnd) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < n; i++) order.add(i);
        Collections.shuffle(order, rnd);
        return order;
    }
}
