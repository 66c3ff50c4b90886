package attnspark.models.tiny;

import static attnspark.models.tiny.TinyLlamaTest.assertRows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import attnspark.models.HfConfig;
import attnspark.models.SequenceBatch;
import attnspark.models.bert.BertModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Tiny random BERT / RoBERTa checkpoints through BertModel.fromPretrained against
 * {@link NaiveBert}: last hidden state within 1e-4 for a padded batch and each sequence alone,
 * eager and sdpa, F32/F16/BF16, with and without the "bert."/"roberta." prefix.
 */
class TinyBertTest {
    static final double TOL = 1e-4;
    static final int[] LENGTHS = {9, 12, 4, 1};

    @TempDir
    Path tmp;

    static Map<String, Object> base() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of("BertModel"));
        c.put("model_type", "bert");
        c.put("vocab_size", 50);
        c.put("hidden_size", 16);
        c.put("intermediate_size", 48);
        c.put("num_hidden_layers", 2);
        c.put("num_attention_heads", 4);
        c.put("max_position_embeddings", 16);
        c.put("type_vocab_size", 2);
        c.put("layer_norm_eps", 1e-12);
        c.put("hidden_act", "gelu");
        c.put("pad_token_id", 0);
        return c;
    }

    static Map<String, Object> cfg(Consumer<Map<String, Object>> edit) {
        Map<String, Object> c = base();
        edit.accept(c);
        return c;
    }

    static Map<String, Object> roberta() {
        return cfg(c -> {
            c.put("architectures", List.of("RobertaModel"));
            c.put("model_type", "roberta");
            c.put("pad_token_id", 1);
            c.put("max_position_embeddings", 12 + 2); // exactly enough for 12 tokens after the offset
            c.put("type_vocab_size", 1);
            c.put("layer_norm_eps", 1e-5);
        });
    }

    static Stream<Arguments> variants() {
        List<Object[]> v = new ArrayList<>();
        v.add(new Object[] {"bert", base(), "", "F32"});
        v.add(new Object[] {"bert 'bert.' prefix, 2 heads", cfg(c -> c.put("num_attention_heads", 2)), "bert.", "F32"});
        v.add(new Object[] {
            "bert hidden 32, 8 heads, eps 1e-6",
            cfg(c -> {
                c.put("hidden_size", 32);
                c.put("num_attention_heads", 8);
                c.put("layer_norm_eps", 1e-6);
            }),
            "",
            "F32"
        });
        v.add(new Object[] {"bert gelu_new", cfg(c -> c.put("hidden_act", "gelu_new")), "", "F32"});
        v.add(new Object[] {"roberta (positions from padding_idx+1)", roberta(), "roberta.", "F32"});
        v.add(new Object[] {"roberta no prefix", roberta(), "", "F32"});
        v.add(new Object[] {"bert F16", base(), "", "F16"});
        v.add(new Object[] {"bert BF16", base(), "bert.", "BF16"});
        v.add(new Object[] {"roberta BF16", roberta(), "roberta.", "BF16"});
        List<Arguments> out = new ArrayList<>();
        for (String attn : new String[] {"eager", "sdpa"}) {
            for (Object[] x : v) out.add(Arguments.of(x[0], attn, x[1], x[2], x[3]));
        }
        return out.stream();
    }

    /** Ids in [2, vocab): never the pad id of either family, so RoBERTa positions are plain 2 + s. */
    static int[][] ids(long seed, int vocab, int... lengths) {
        Random r = new Random(seed);
        int[][] ids = new int[lengths.length][];
        for (int b = 0; b < lengths.length; b++) {
            ids[b] = new int[lengths[b]];
            for (int s = 0; s < lengths[b]; s++) ids[b][s] = 2 + r.nextInt(vocab - 2);
        }
        return ids;
    }

    @ParameterizedTest(name = "{0} [{1}]")
    @MethodSource("variants")
    void matchesNaiveReference(String name, String attn, Map<String, Object> config, String prefix, String dtype)
            throws Exception {
        TinyCheckpoint ck = TinyCheckpoint.bert(config, prefix, dtype, name.hashCode());
        Path dir = ck.write(tmp.resolve("m"));
        BertModel model = BertModel.fromPretrained(HfConfig.read(dir.resolve("config.json")), dir, attn);
        NaiveBert ref = new NaiveBert(config, ck.values, prefix);
        int[][] ids = ids(name.hashCode() * 17L, ref.V, LENGTHS);
        SequenceBatch batch = new SequenceBatch(ids);
        float[] hidden = model.forward(batch, Map.of());
        assertEquals(batch.totalTokens * ref.D, hidden.length);
        for (int b = 0; b < ids.length; b++) {
            assertRows(name + " batch seq " + b, ref.hidden(ids[b], null), hidden, batch.offsets[b], ref.D, TOL);
            float[] alone = model.forward(new SequenceBatch(new int[][] {ids[b]}), Map.of());
            assertRows(name + " alone seq " + b, ref.hidden(ids[b], null), alone, 0, ref.D, TOL);
        }
        assertEquals(ref.P - ref.positionOffset, model.maxPositions());
    }

    /** Token type 0 is what BertModel uses (it takes no token_type_ids); type 1 would give different states. */
    @Test
    void tokenTypeZeroIsAdded() throws Exception {
        Map<String, Object> config = base();
        TinyCheckpoint ck = TinyCheckpoint.bert(config, "", "F32", 11);
        Path dir = ck.write(tmp.resolve("m"));
        BertModel model = BertModel.fromPretrained(HfConfig.read(dir.resolve("config.json")), dir, "eager");
        NaiveBert ref = new NaiveBert(config, ck.values, "");
        int[] ids = ids(12, 50, 6)[0];
        float[] h = model.forward(new SequenceBatch(new int[][] {ids}), Map.of());
        assertRows("token types 0", ref.hidden(ids, new int[6]), h, 0, 16, TOL);
        double[][] type1 = ref.hidden(ids, new int[] {1, 1, 1, 1, 1, 1});
        double diff = 0;
        for (int s = 0; s < 6; s++)
            for (int d = 0; d < 16; d++) diff = Math.max(diff, Math.abs(type1[s][d] - h[s * 16 + d]));
        assertTrue(diff > 1e-2, "token type embeddings must matter in this fixture");
    }

    /** RoBERTa: a sequence of max_position_embeddings - (padding_idx + 1) tokens fits, one more does not. */
    @Test
    void robertaPositionLimit() throws Exception {
        Map<String, Object> config = roberta();
        TinyCheckpoint ck = TinyCheckpoint.bert(config, "roberta.", "F32", 5);
        Path dir = ck.write(tmp.resolve("m"));
        BertModel model = BertModel.fromPretrained(HfConfig.read(dir.resolve("config.json")), dir, "sdpa");
        assertEquals(12, model.maxPositions());
        int[] ok = ids(1, 50, 12)[0];
        NaiveBert ref = new NaiveBert(config, ck.values, "roberta.");
        assertRows(
                "12 tokens",
                ref.hidden(ok, null),
                model.forward(new SequenceBatch(new int[][] {ok}), Map.of()),
                0,
                16,
                TOL);
        int[] tooLong = ids(1, 50, 13)[0];
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> model.forward(new SequenceBatch(new int[][] {tooLong}), Map.of()));
        assertTrue(e.getMessage().contains("13 tokens"), e.getMessage());
    }

    /**
     * forward's result is the caller's: on the packed path the hidden states live in the thread's
     * arena (which pooling reads in place), so forward must hand out a copy even when the batch
     * fills that buffer exactly (64 x 16 tokens of hidden 16: the arena's 1,024 rows).
     */
    @Test
    void forwardResultOutlivesTheNextForward() throws Exception {
        TinyCheckpoint ck = TinyCheckpoint.bert(base(), "", "F32", 23);
        Path dir = ck.write(tmp.resolve("m"));
        BertModel model = BertModel.fromPretrained(HfConfig.read(dir.resolve("config.json")), dir, "sdpa");
        int[] lengths = new int[64];
        Arrays.fill(lengths, 16);
        float[] first = model.forward(new SequenceBatch(ids(3, 50, lengths)), Map.of());
        float[] kept = first.clone();
        float[] second = model.forward(new SequenceBatch(ids(4, 50, lengths)), Map.of());
        assertNotSame(first, second, "each forward returns its own array");
        for (int i = 0; i < kept.length; i++) assertEquals(kept[i], first[i], "float " + i + " of the first result");
    }
}
