package attnspark.models.tiny;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import attnspark.models.SequenceBatch;
import attnspark.models.llama.CausalLmScorer;
import attnspark.models.llama.LlamaModel;
import attnspark.tokenizer.TextTokenizer;
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
 * Tiny random Llama-family checkpoints (2 layers, hidden 16, vocab 50, ≤ 12 tokens) loaded
 * through LlamaModel.fromPretrained and compared, token by token, against {@link NaiveLlama}:
 * final hidden states and logits within 1e-4, for a padded batch of different lengths and for
 * each sequence alone, under eager and sdpa attention.
 */
class TinyLlamaTest {
    static final double TOL = 1e-4;
    static final int[] LENGTHS = {10, 7, 3, 12};

    @TempDir
    Path tmp;

    static Map<String, Object> base() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of("LlamaForCausalLM"));
        c.put("model_type", "llama");
        c.put("vocab_size", 50);
        c.put("hidden_size", 16);
        c.put("intermediate_size", 40);
        c.put("num_hidden_layers", 2);
        c.put("num_attention_heads", 4);
        c.put("num_key_value_heads", 4);
        c.put("max_position_embeddings", 64);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 10000.0);
        c.put("hidden_act", "silu");
        c.put("tie_word_embeddings", false);
        return c;
    }

    static Map<String, Object> cfg(Consumer<Map<String, Object>> edit) {
        Map<String, Object> c = base();
        edit.accept(c);
        return c;
    }

    static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    /** HF's llama3 rope scaling over 64 original positions (factor 8, frequency factors 1 and 4); a new map each call. */
    static Map<String, Object> llama3RopeScaling() {
        return map(
                "rope_type",
                "llama3",
                "factor",
                8.0,
                "low_freq_factor",
                1.0,
                "high_freq_factor",
                4.0,
                "original_max_position_embeddings",
                64);
    }

    static Stream<Arguments> variants() {
        List<Object[]> v = new ArrayList<>();
        v.add(new Object[] {"mha", base(), "F32"});
        v.add(new Object[] {"gqa 4q/2kv", cfg(c -> c.put("num_key_value_heads", 2)), "F32"});
        v.add(new Object[] {"gqa 4q/1kv", cfg(c -> c.put("num_key_value_heads", 1)), "F32"});
        v.add(new Object[] {"tied head", cfg(c -> c.put("tie_word_embeddings", true)), "F32"});
        v.add(new Object[] {
            "explicit head_dim 8 (H·Dh 32 != hidden 16)",
            cfg(c -> {
                c.put("head_dim", 8);
                c.put("num_key_value_heads", 2);
            }),
            "F32"
        });
        v.add(new Object[] {"rope_theta 500000", cfg(c -> c.put("rope_theta", 500000.0)), "F32"});
        v.add(new Object[] {
            "rope linear", cfg(c -> c.put("rope_scaling", map("rope_type", "linear", "factor", 2.0))), "F32"
        });
        v.add(new Object[] {
            "rope linear (legacy 'type' key)",
            cfg(c -> c.put("rope_scaling", map("type", "linear", "factor", 4.0))),
            "F32"
        });
        // head_dim 8: inv_freq 1, 0.1, 0.01, 0.001 -> wavelengths 6.3 (high band), 63 (medium), 628, 6283 (low)
        v.add(new Object[] {
            "rope llama3",
            cfg(c -> {
                c.put("num_attention_heads", 2);
                c.put("num_key_value_heads", 1);
                c.put("rope_scaling", llama3RopeScaling());
            }),
            "F32"
        });
        v.add(new Object[] {"attention_bias (q/k/v/o bias)", cfg(c -> c.put("attention_bias", true)), "F32"});
        v.add(new Object[] {
            "qwen2 q/k/v bias, use_sliding_window false",
            cfg(c -> {
                c.put("model_type", "qwen2");
                c.put("num_key_value_heads", 2);
                c.put("sliding_window", 3);
                c.put("use_sliding_window", false);
                c.put("tie_word_embeddings", true);
            }),
            "F32"
        });
        v.add(new Object[] {
            "qwen2 sliding_window without use_sliding_window (HF default off)",
            cfg(c -> {
                c.put("model_type", "qwen2");
                c.put("sliding_window", 2);
            }),
            "F32"
        });
        v.add(new Object[] {
            "qwen2 use_sliding_window, max_window_layers 1 (layer 1 sliding)",
            cfg(c -> {
                c.put("model_type", "qwen2");
                c.put("sliding_window", 2);
                c.put("use_sliding_window", true);
                c.put("max_window_layers", 1);
            }),
            "F32"
        });
        v.add(new Object[] {
            "qwen2 use_sliding_window, default max_window_layers 28 (all full)",
            cfg(c -> {
                c.put("model_type", "qwen2");
                c.put("sliding_window", 2);
                c.put("use_sliding_window", true);
            }),
            "F32"
        });
        v.add(new Object[] {
            "mistral sliding_window 4",
            cfg(c -> {
                c.put("model_type", "mistral");
                c.put("num_key_value_heads", 2);
                c.put("sliding_window", 4);
            }),
            "F32"
        });
        v.add(new Object[] {
            "layer_types sliding/full",
            cfg(c -> {
                c.put("sliding_window", 3);
                c.put("layer_types", List.of("sliding_attention", "full_attention"));
            }),
            "F32"
        });
        v.add(new Object[] {
            "layer_types full/sliding",
            cfg(c -> {
                c.put("sliding_window", 2);
                c.put("layer_types", List.of("full_attention", "sliding_attention"));
            }),
            "F32"
        });
        v.add(new Object[] {"attention_chunk_size 4 (every layer)", cfg(c -> c.put("attention_chunk_size", 4)), "F32"});
        v.add(new Object[] {
            "layer_types chunked/full",
            cfg(c -> {
                c.put("attention_chunk_size", 3);
                c.put("layer_types", List.of("chunked_attention", "full_attention"));
            }),
            "F32"
        });
        v.add(new Object[] {"is_causal false (bidirectional decoder)", cfg(c -> c.put("is_causal", false)), "F32"});
        v.add(new Object[] {
            "is_causal false, gqa, sliding 3 (bidirectional window)",
            cfg(c -> {
                c.put("is_causal", false);
                c.put("num_key_value_heads", 2);
                c.put("sliding_window", 3);
            }),
            "F32"
        });
        v.add(new Object[] {"gqa F16", cfg(c -> c.put("num_key_value_heads", 2)), "F16"});
        v.add(new Object[] {"gqa BF16", cfg(c -> c.put("num_key_value_heads", 2)), "BF16"});
        v.add(new Object[] {
            "tied qwen2 BF16",
            cfg(c -> {
                c.put("model_type", "qwen2");
                c.put("tie_word_embeddings", true);
            }),
            "BF16"
        });
        v.add(new Object[] {"llama3 rope, untied F16", cfg(c -> c.put("rope_scaling", llama3RopeScaling())), "F16"});
        List<Arguments> out = new ArrayList<>();
        for (String attn : new String[] {"eager", "sdpa"}) {
            for (Object[] x : v) out.add(Arguments.of(x[0], attn, x[1], x[2]));
        }
        return out.stream();
    }

    static int[][] ids(long seed, int vocab, int... lengths) {
        Random r = new Random(seed);
        int[][] ids = new int[lengths.length][];
        for (int b = 0; b < lengths.length; b++) {
            ids[b] = new int[lengths[b]];
            for (int s = 0; s < lengths[b]; s++) ids[b][s] = r.nextInt(vocab);
        }
        return ids;
    }

    /** Max |model - reference| over rows offset.. of a packed (T, width) array. */
    static void assertRows(String what, double[][] ref, float[] packed, int offset, int width, double tol) {
        double worst = 0;
        int at = -1;
        for (int s = 0; s < ref.length; s++) {
            assertEquals(width, ref[s].length, what + ": width");
            for (int d = 0; d < width; d++) {
                double diff = Math.abs(packed[(offset + s) * width + d] - ref[s][d]);
                if (!(diff <= worst)) {
                    worst = diff;
                    at = s * width + d;
                }
            }
        }
        double w = worst;
        int a = at;
        assertTrue(
                w <= tol,
                () -> what + ": max |model - naive| = " + w + " at token " + (a / width) + " dim " + (a % width)
                        + " (tolerance " + tol + ")");
    }

    /** Transformers v5 configs put rope_theta and the scaling in one rope_parameters map. */
    @Test
    void ropeParametersOfV5ConfigsEqualV4RopeThetaAndScaling() throws Exception {
        Map<String, Object> v4 = cfg(c -> {
            c.put("num_attention_heads", 2);
            c.put("num_key_value_heads", 1);
            c.put("rope_theta", 500000.0);
            c.put("rope_scaling", llama3RopeScaling());
        });
        Map<String, Object> v5 = new LinkedHashMap<>(v4);
        v5.remove("rope_theta");
        v5.remove("rope_scaling");
        Map<String, Object> ropeParameters = llama3RopeScaling();
        ropeParameters.put("rope_theta", 500000.0);
        v5.put("rope_parameters", ropeParameters);
        TinyCheckpoint ck = TinyCheckpoint.llama(v5, "F32", 77);
        LlamaModel model = LlamaModel.fromPretrained(ck.write(tmp.resolve("v5")), "sdpa");
        int[] ids = ids(5, 50, new int[] {12})[0];
        assertRows(
                "rope_parameters",
                new NaiveLlama(v4, ck.values).hidden(ids),
                model.forward(new SequenceBatch(new int[][] {ids}), Map.of()),
                0,
                16,
                TOL);
        // and the default type with only a theta
        Map<String, Object> v5plain = new LinkedHashMap<>(v4);
        v5plain.remove("rope_scaling");
        v5plain.remove("rope_theta");
        v5plain.put("rope_parameters", map("rope_type", "default", "rope_theta", 500000.0));
        Map<String, Object> v4plain = new LinkedHashMap<>(v4);
        v4plain.remove("rope_scaling");
        TinyCheckpoint ck2 = TinyCheckpoint.llama(v5plain, "F32", 78);
        assertRows(
                "rope_parameters default",
                new NaiveLlama(v4plain, ck2.values).hidden(ids),
                LlamaModel.fromPretrained(ck2.write(tmp.resolve("v5plain")), "sdpa")
                        .forward(new SequenceBatch(new int[][] {ids}), Map.of()),
                0,
                16,
                TOL);
    }

    /**
     * With a 129,000-token vocabulary the scorer runs the head on slices of a sequence's rows (its
     * 256 MiB logits budget: 520 rows, whole 8-row tiles of the linear): a 1,200-token document's
     * log-probs (three slices, the last partial) are bit for bit those of each row's logits
     * computed alone, one head call per row, and log_softmax at the next token.
     */
    @Test
    void headSlicesGiveEachRowItsOwnLogProbs() throws Exception {
        int V = 129_000, D = 8;
        Map<String, Object> c = cfg(m -> {
            m.put("vocab_size", V);
            m.put("hidden_size", D);
            m.put("intermediate_size", 16);
            m.put("num_hidden_layers", 1);
            m.put("num_attention_heads", 2);
            m.put("num_key_value_heads", 2);
            m.put("max_position_embeddings", 2048);
            m.put("tie_word_embeddings", true);
        });
        LlamaModel model =
                LlamaModel.fromPretrained(TinyCheckpoint.llama(c, "F32", 91).write(tmp.resolve("vocab129k")), "sdpa");
        int[] ids = ids(92, V, 1200)[0];
        float[] got = new CausalLmScorer(model, null, 1 << 20, Map.of())
                .scoreTokens(new TextTokenizer.Tokens[] {new TextTokenizer.Tokens(ids, false)}, true)
                .get(0)
                .tokenLogprobs();
        float[] hidden = model.forward(new SequenceBatch(new int[][] {ids}), Map.of()); // (1200, D)
        assertEquals(ids.length - 1, got.length, "one log-prob per token after the first");
        for (int t = 0; t + 1 < ids.length; t++) {
            float[] logits = model.logits(Arrays.copyOfRange(hidden, t * D, (t + 1) * D), 1); // (1, V)
            float want = CausalLmScorer.logSoftmaxAt(logits, 0, V, ids[t + 1]);
            assertEquals(
                    Float.floatToRawIntBits(want),
                    Float.floatToRawIntBits(got[t]),
                    "token " + (t + 1) + " of 1200: " + got[t] + " vs its row alone " + want);
        }
    }

    @ParameterizedTest(name = "{0} [{1}]")
    @MethodSource("variants")
    void matchesNaiveReference(String name, String attn, Map<String, Object> config, String dtype) throws Exception {
        TinyCheckpoint ck = TinyCheckpoint.llama(config, dtype, name.hashCode());
        Path dir = ck.write(tmp.resolve("m"));
        LlamaModel model = LlamaModel.fromPretrained(dir, attn);
        NaiveLlama ref = new NaiveLlama(config, ck.values);
        int D = ref.D, V = ref.V;
        int[][] ids = ids(name.hashCode() * 31L, V, LENGTHS);

        // padded batch of different lengths
        SequenceBatch batch = new SequenceBatch(ids);
        float[] hidden = model.forward(batch, Map.of());
        float[] logits = model.logits(hidden, batch.totalTokens);
        for (int b = 0; b < ids.length; b++) {
            double[][] h = ref.hidden(ids[b]);
            assertRows(name + " batch seq " + b + " hidden", h, hidden, batch.offsets[b], D, TOL);
            assertRows(name + " batch seq " + b + " logits", ref.logits(h), logits, batch.offsets[b], V, TOL);
        }
        // each sequence alone
        for (int b = 0; b < ids.length; b++) {
            SequenceBatch one = new SequenceBatch(new int[][] {ids[b]});
            float[] h1 = model.forward(one, Map.of());
            double[][] h = ref.hidden(ids[b]);
            assertRows(name + " alone seq " + b + " hidden", h, h1, 0, D, TOL);
            assertRows(
                    name + " alone seq " + b + " logits", ref.logits(h), model.logits(h1, one.totalTokens), 0, V, TOL);
        }
    }

    @ParameterizedTest(name = "per-call is_causal=false [{0}]")
    @MethodSource("impls")
    void perCallIsCausalOverride(String attn) throws Exception {
        Map<String, Object> config = cfg(c -> c.put("num_key_value_heads", 2));
        TinyCheckpoint ck = TinyCheckpoint.llama(config, "F32", 7);
        LlamaModel model = LlamaModel.fromPretrained(ck.write(tmp.resolve("m")), attn);
        NaiveLlama ref = new NaiveLlama(config, ck.values);
        int[][] ids = ids(8, ref.V, 9, 5);
        SequenceBatch batch = new SequenceBatch(ids);
        float[] bidi = model.forward(batch, Map.of("is_causal", false));
        float[] causal = model.forward(batch, Map.of());
        for (int b = 0; b < ids.length; b++) {
            assertRows("is_causal=false seq " + b, ref.hidden(ids[b], false), bidi, batch.offsets[b], ref.D, TOL);
            assertRows("default causal seq " + b, ref.hidden(ids[b], true), causal, batch.offsets[b], ref.D, TOL);
        }
    }

    static Stream<String> impls() {
        return Stream.of("eager", "sdpa");
    }

    /** The naive reference itself: causal output of a prefix does not depend on later tokens. */
    @Test
    void naiveReferenceIsCausal() {
        Map<String, Object> config = base();
        TinyCheckpoint ck = TinyCheckpoint.llama(config, "F32", 3);
        NaiveLlama ref = new NaiveLlama(config, ck.values);
        int[] ids = ids(4, 50, 8)[0];
        double[][] full = ref.hidden(ids);
        double[][] prefix = ref.hidden(Arrays.copyOf(ids, 5));
        for (int s = 0; s < 5; s++) for (int d = 0; d < 16; d++) assertEquals(full[s][d], prefix[s][d], 1e-12);
    }
}
