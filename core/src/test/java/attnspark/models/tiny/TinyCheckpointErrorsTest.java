package attnspark.models.tiny;

import static attnspark.testutil.Messages.assertMentions;
import static org.junit.jupiter.api.Assertions.assertThrows;

import attnspark.checkpoint.CheckpointException;
import attnspark.models.HfConfig;
import attnspark.models.SequenceBatch;
import attnspark.models.bert.BertModel;
import attnspark.models.llama.LlamaModel;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Model-level loading errors on tiny checkpoints (reader-level cases live in
 * SafeTensorsCheckpointTest): the message must name the file and the tensor, and for shapes
 * both the expected and the found shape.
 */
class TinyCheckpointErrorsTest {
    @TempDir
    Path tmp;

    static Map<String, Object> gqa() {
        return TinyLlamaTest.cfg(c -> c.put("num_key_value_heads", 2)); // hidden 16, 4 heads of 4, 2 kv heads
    }

    /** {@code load} of the checkpoint written to {@code dir} fails, naming its file and each of {@code parts}. */
    static void assertLoadFails(Path dir, Executable load, String... parts) {
        CheckpointException e = assertThrows(CheckpointException.class, load);
        assertMentions(e, dir.resolve("model.safetensors").toString());
        assertMentions(e, parts);
    }

    @Test
    void missingTensorNamesFileAndTensor() throws Exception {
        TinyCheckpoint ck = TinyCheckpoint.llama(gqa(), "F32", 1);
        ck.values.remove("model.layers.1.mlp.up_proj.weight");
        Path dir = ck.write(tmp.resolve("m"));
        assertLoadFails(dir, () -> LlamaModel.fromPretrained(dir, "eager"), "model.layers.1.mlp.up_proj.weight");
    }

    @Test
    void missingLayerWhenConfigHasMoreLayers() throws Exception {
        TinyCheckpoint ck = TinyCheckpoint.llama(gqa(), "F32", 2);
        Path dir = ck.write(tmp.resolve("m"));
        HfConfig three = HfConfig.read(dir.resolve("config.json")).with("num_hidden_layers", 3);
        // caught by the preflight, before any layer is allocated
        assertLoadFails(
                dir, () -> LlamaModel.fromPretrained(three, dir, "eager"), "'num_hidden_layers' = 3", "holds 2 layers");
    }

    @Test
    void unexpectedTensorNamesFileAndTensor() throws Exception {
        TinyCheckpoint ck = TinyCheckpoint.llama(gqa(), "F32", 3);
        ck.randn("model.layers.0.mlp.extra_proj.weight", 0.1, 4, 16);
        Path dir = ck.write(tmp.resolve("m"));
        assertLoadFails(
                dir,
                () -> LlamaModel.fromPretrained(dir, "eager"),
                "model.layers.0.mlp.extra_proj.weight",
                "unexpected");
    }

    @Test
    void fewerLayersInConfigLeavesUnexpectedTensors() throws Exception {
        TinyCheckpoint ck = TinyCheckpoint.llama(gqa(), "F32", 4);
        Path dir = ck.write(tmp.resolve("m"));
        HfConfig one = HfConfig.read(dir.resolve("config.json")).with("num_hidden_layers", 1);
        assertLoadFails(
                dir, () -> LlamaModel.fromPretrained(one, dir, "eager"), "'num_hidden_layers' = 1", "holds 2 layers");
    }

    @Test
    void wrongShapeNamesTensorAndBothShapes() throws Exception {
        TinyCheckpoint ck = TinyCheckpoint.llama(gqa(), "F32", 5);
        // a 4-kv-head k_proj (16, 16) where the config's 2 kv heads of 4 need (8, 16)
        ck.randn("model.layers.1.self_attn.k_proj.weight", 0.1, 16, 16);
        Path dir = ck.write(tmp.resolve("m"));
        assertLoadFails(
                dir,
                () -> LlamaModel.fromPretrained(dir, "sdpa"),
                "model.layers.1.self_attn.k_proj.weight",
                "[16, 16]",
                "[8, 16]");
    }

    @Test
    void wrongVocabShapeNamesEmbedding() throws Exception {
        TinyCheckpoint ck = TinyCheckpoint.llama(gqa(), "BF16", 6);
        Path dir = ck.write(tmp.resolve("m"));
        HfConfig bigger = HfConfig.read(dir.resolve("config.json")).with("vocab_size", 64);
        assertLoadFails(
                dir,
                () -> LlamaModel.fromPretrained(bigger, dir, "eager"),
                "model.embed_tokens.weight",
                "[50, 16]",
                "[64, 16]");
    }

    @Test
    void wrongDtypeNamesTensorAndDtype() throws Exception {
        for (String dtype : new String[] {"I32", "F64"}) {
            TinyCheckpoint ck = TinyCheckpoint.llama(gqa(), "F32", 7);
            ck.dtypeOverride.put("model.layers.0.post_attention_layernorm.weight", dtype);
            Path dir = ck.write(tmp.resolve("m-" + dtype));
            assertLoadFails(
                    dir,
                    () -> LlamaModel.fromPretrained(dir, "eager"),
                    "model.layers.0.post_attention_layernorm.weight",
                    dtype);
        }
    }

    /** A tied checkpoint that still carries lm_head.weight loads, and the head is the embedding (HF ties it). */
    @Test
    void tiedCheckpointWithHeadCopyLoadsAndUsesEmbedding() throws Exception {
        Map<String, Object> cfg = TinyLlamaTest.cfg(c -> c.put("tie_word_embeddings", true));
        TinyCheckpoint ck = TinyCheckpoint.llama(cfg, "F32", 8);
        ck.randn("lm_head.weight", 0.3, 50, 16); // a different matrix: must be ignored
        LlamaModel model = LlamaModel.fromPretrained(ck.write(tmp.resolve("m")), "eager");
        NaiveLlama ref = new NaiveLlama(cfg, ck.values);
        int[] ids = {3, 14, 15, 9, 26};
        float[] h = model.forward(new SequenceBatch(new int[][] {ids}), Map.of());
        double[][] rh = ref.hidden(ids);
        TinyLlamaTest.assertRows("hidden", rh, h, 0, 16, 1e-4);
        TinyLlamaTest.assertRows("tied logits", ref.logits(rh), model.logits(h, ids.length), 0, 50, 1e-4);
    }

    @Test
    void bertMissingAndWrongShapeNameThePrefixedTensor() throws Exception {
        TinyCheckpoint ck = TinyCheckpoint.bert(TinyBertTest.base(), "bert.", "F16", 9);
        ck.values.remove("bert.encoder.layer.1.output.LayerNorm.bias");
        Path dir = ck.write(tmp.resolve("missing"));
        HfConfig cfg = HfConfig.read(dir.resolve("config.json"));
        assertLoadFails(
                dir, () -> BertModel.fromPretrained(cfg, dir, "eager"), "bert.encoder.layer.1.output.LayerNorm.bias");

        TinyCheckpoint ck2 = TinyCheckpoint.bert(TinyBertTest.base(), "", "F32", 10);
        ck2.randn("embeddings.position_embeddings.weight", 0.1, 8, 16); // config says 16 positions
        Path dir2 = ck2.write(tmp.resolve("shape"));
        assertLoadFails(
                dir2,
                () -> BertModel.fromPretrained(HfConfig.read(dir2.resolve("config.json")), dir2, "eager"),
                "embeddings.position_embeddings.weight",
                "[8, 16]",
                "[16, 16]");
    }

    @Test
    void bertUnexpectedTensorIsNamed() throws Exception {
        TinyCheckpoint ck = TinyCheckpoint.bert(TinyBertTest.base(), "", "F32", 11);
        ck.randn("encoder.layer.0.attention.self.extra.weight", 0.1, 16, 16);
        Path dir = ck.write(tmp.resolve("m"));
        assertLoadFails(
                dir,
                () -> BertModel.fromPretrained(HfConfig.read(dir.resolve("config.json")), dir, "eager"),
                "encoder.layer.0.attention.self.extra.weight",
                "unexpected");
    }

    /**
     * Task heads the encoder never reads (bert-base-uncased is a BertForPreTraining checkpoint:
     * cls.predictions.*, cls.seq_relationship.*; roberta-base carries lm_head.*) load as HF loads
     * them into BertModel, and the encoder output is still the reference's.
     */
    @Test
    void bertCheckpointWithPretrainingHeadsLoads() throws Exception {
        TinyCheckpoint ck = TinyCheckpoint.bert(TinyBertTest.base(), "bert.", "F32", 12);
        ck.randn("cls.predictions.bias", 0.1, 50);
        ck.randn("cls.predictions.transform.dense.weight", 0.1, 16, 16);
        ck.randn("cls.seq_relationship.weight", 0.1, 2, 16);
        ck.randn("bert.pooler.dense.weight", 0.1, 16, 16);
        Path dir = ck.write(tmp.resolve("m"));
        BertModel model = BertModel.fromPretrained(HfConfig.read(dir.resolve("config.json")), dir, "eager");
        int[] ids = {2, 7, 9, 3};
        TinyLlamaTest.assertRows(
                "encoder output",
                new NaiveBert(TinyBertTest.base(), ck.values, "bert.").hidden(ids, null),
                model.forward(new SequenceBatch(new int[][] {ids}), Map.of()),
                0,
                16,
                TinyBertTest.TOL);
    }

    /** Older Llama checkpoints saved the rotary inverse frequencies; they are recomputed, so ignored (as HF does). */
    @Test
    void llamaRotaryInvFreqBuffersAreIgnored() throws Exception {
        Map<String, Object> cfg = gqa();
        TinyCheckpoint ck = TinyCheckpoint.llama(cfg, "F32", 13);
        ck.randn("model.layers.0.self_attn.rotary_emb.inv_freq", 0.1, 2);
        ck.randn("model.layers.1.self_attn.rotary_emb.inv_freq", 0.1, 2);
        LlamaModel model = LlamaModel.fromPretrained(ck.write(tmp.resolve("m")), "eager");
        int[] ids = {3, 14, 15, 9};
        TinyLlamaTest.assertRows(
                "hidden",
                new NaiveLlama(cfg, ck.values).hidden(ids),
                model.forward(new SequenceBatch(new int[][] {ids}), Map.of()),
                0,
                16,
                1e-4);
    }
}
