package attnspark.checkpoint;

import static org.junit.jupiter.api.Assertions.*;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import attnspark.tensor.FloatTensor;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxCheckpointTest {
    static Path miniLm;

    @TempDir
    Path tmp;

    @BeforeAll
    static void materialize() {
        miniLm = BundledModel.materialize().resolve("model.onnx");
    }

    static Set<String> expectedMiniLmNames() {
        Set<String> s = new HashSet<>(List.of(
                "embeddings.word_embeddings.weight",
                "embeddings.position_embeddings.weight",
                "embeddings.token_type_embeddings.weight",
                "embeddings.LayerNorm.weight",
                "embeddings.LayerNorm.bias"));
        for (int l = 0; l < 6; l++) {
            for (String p : List.of(
                    "attention.self.query",
                    "attention.self.key",
                    "attention.self.value",
                    "attention.output.dense",
                    "intermediate.dense",
                    "output.dense")) {
                s.add("encoder.layer." + l + "." + p + ".weight");
                s.add("encoder.layer." + l + "." + p + ".bias");
            }
            for (String p : List.of("attention.output.LayerNorm", "output.LayerNorm")) {
                s.add("encoder.layer." + l + "." + p + ".weight");
                s.add("encoder.layer." + l + "." + p + ".bias");
            }
        }
        return s;
    }

    @Test
    void miniLmMapsToHuggingFaceNamesAndShapes() {
        try (OnnxCheckpoint ck = OnnxCheckpoint.open(miniLm)) {
            assertEquals(expectedMiniLmNames(), ck.names());
            assertEquals(5 + 6 * 16, ck.names().size());
            for (String n : ck.names()) assertFalse(n.contains("onnx::") || n.startsWith("bert."), n);
            assertArrayEquals(new int[] {30522, 384}, ck.shape("embeddings.word_embeddings.weight"));
            assertArrayEquals(new int[] {512, 384}, ck.shape("embeddings.position_embeddings.weight"));
            assertArrayEquals(new int[] {2, 384}, ck.shape("embeddings.token_type_embeddings.weight"));
            for (int l = 0; l < 6; l++) {
                String p = "encoder.layer." + l + ".";
                for (String q : List.of("query", "key", "value")) {
                    assertArrayEquals(new int[] {384, 384}, ck.shape(p + "attention.self." + q + ".weight"));
                    assertArrayEquals(new int[] {384}, ck.shape(p + "attention.self." + q + ".bias"));
                }
                assertArrayEquals(new int[] {384, 384}, ck.shape(p + "attention.output.dense.weight"));
                assertArrayEquals(new int[] {1536, 384}, ck.shape(p + "intermediate.dense.weight"));
                assertArrayEquals(new int[] {1536}, ck.shape(p + "intermediate.dense.bias"));
                assertArrayEquals(new int[] {384, 1536}, ck.shape(p + "output.dense.weight"));
                assertArrayEquals(new int[] {384}, ck.shape(p + "output.LayerNorm.weight"));
            }
            assertTrue(ck.rawName("encoder.layer.0.attention.self.query.weight").startsWith("onnx::MatMul"));
            assertEquals(List.of("input_ids", "attention_mask", "token_type_ids"), ck.inputNames());
            assertTrue(ck.takesTokenTypeIds());
            assertEquals(12, ck.attentionHeads(384));

            FloatTensor w = ck.tensor("encoder.layer.0.intermediate.dense.weight", 1536, 384);
            double sum = 0;
            for (float v : w.data) {
                assertTrue(Float.isFinite(v));
                sum += Math.abs(v);
            }
            assertTrue(sum > 0);
            // LayerNorm gains of a trained BERT sit around 1; a misplaced offset would not
            float[] g = ck.tensor("embeddings.LayerNorm.weight", 384).data;
            double mean = 0;
            for (float v : g) mean += v / g.length;
            assertTrue(mean > 0.3 && mean < 3, "LayerNorm gain mean " + mean);
        }
    }

    /**
     * A small graph built here, run by ONNX Runtime: the weights we hand back, used as nn.Linear
     * (y = x W^T + b), must reproduce what ORT computes with the file's (in, out) MatMul weights.
     */
    @Test
    void transposedMatMulWeightsReproduceOnnxRuntime() throws Exception {
        float[] w1 = {1, 2, 3, 4, 5, 6}; // (in 3, out 2), as exporters store it
        float[] b1 = {0.5f, -0.5f};
        float[] w2 = new float[3 * 4];
        for (int i = 0; i < w2.length; i++) w2[i] = i * 0.25f - 1;
        Pb g = new Pb()
                .m(
                        1,
                        Pb.node(
                                "/bert/encoder/layer.0/output/dense/MatMul",
                                "MatMul",
                                new String[] {"x", "onnx::MatMul_1"},
                                "m1"))
                .m(
                        1,
                        Pb.node(
                                "/bert/encoder/layer.0/output/dense/Add",
                                "Add",
                                new String[] {"bert.encoder.layer.0.output.dense.bias", "m1"},
                                "y1"))
                .m(1, Pb.node("/bert/pooler/dense/MatMul", "MatMul", new String[] {"x", "onnx::MatMul_2"}, "y2"))
                .s(2, "g")
                .m(5, Pb.floatTensorRaw("onnx::MatMul_1", w1, 3, 2))
                .m(5, Pb.floatTensorRaw("bert.encoder.layer.0.output.dense.bias", b1, 2))
                .m(5, Pb.floatTensorRaw("onnx::MatMul_2", w2, 3, 4))
                .m(11, Pb.valueInfo("x", 1, 3))
                .m(12, Pb.valueInfo("y1", 1, 2))
                .m(12, Pb.valueInfo("y2", 1, 4));
        Path f = Files.write(tmp.resolve("tiny.onnx"), Pb.model(g));
        float[] x = {0.3f, -1.2f, 2.0f};

        float[][] ort = new float[2][];
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(f.toString(), new OrtSession.SessionOptions());
                OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {1, 3});
                OrtSession.Result r = s.run(Map.of("x", in))) {
            ort[0] = ((float[][]) r.get("y1").get().getValue())[0];
            ort[1] = ((float[][]) r.get("y2").get().getValue())[0];
        }

        try (OnnxCheckpoint ck = OnnxCheckpoint.open(f)) {
            assertEquals(
                    Set.of(
                            "encoder.layer.0.output.dense.weight",
                            "encoder.layer.0.output.dense.bias",
                            "pooler.dense.weight"),
                    ck.names());
            FloatTensor wa = ck.tensor("encoder.layer.0.output.dense.weight", 2, 3);
            FloatTensor ba = ck.tensor("encoder.layer.0.output.dense.bias", 2);
            FloatTensor wb = ck.tensor("pooler.dense.weight", 4, 3); // from the node name: no bias Add
            assertArrayEquals(ort[0], linear(x, wa, ba.data), 1e-5f);
            assertArrayEquals(ort[1], linear(x, wb, null), 1e-5f);
            assertEquals(List.of("x"), ck.inputNames());
            assertFalse(ck.takesTokenTypeIds());
        }
    }

    private static float[] linear(float[] x, FloatTensor w, float[] b) {
        int out = w.shape[0], in = w.shape[1];
        float[] y = new float[out];
        for (int o = 0; o < out; o++) {
            double acc = b == null ? 0 : b[o];
            for (int i = 0; i < in; i++) acc += x[i] * w.data[o * in + i];
            y[o] = (float) acc;
        }
        return y;
    }

    @Test
    void otherEncodingsAndDtypes() throws IOException {
        // packed dims, packed float_data, F16 raw, BF16 via int32_data, INT64 (hidden), external data
        Pb packedDims = new Pb().varint(2).varint(2);
        Pb packedFloats = new Pb();
        for (float v : new float[] {1, -2, 3.5f, 0}) packedFloats.raw(leFloat(v));
        Pb g = new Pb()
                .m(5, new Pb().bytes(1, packedDims.toBytes()).i(2, 1).s(8, "fd").bytes(4, packedFloats.toBytes()))
                .m(5, new Pb().i(1, 3).i(2, 10).s(8, "half").bytes(9, new byte[] {
                            0x00, 0x3C, 0x00, (byte) 0xC0, 0x01, 0x00
                        }))
                .m(
                        5,
                        new Pb()
                                .i(1, 2)
                                .i(2, 16)
                                .s(8, "bf")
                                .bytes(5, new Pb().varint(0x3F80).varint(0xC040).toBytes()))
                .m(5, new Pb().i(1, 2).i(2, 7).s(8, "ids").i(7, 5).i(7, 6))
                .m(
                        5,
                        new Pb()
                                .i(1, 2)
                                .i(2, 1)
                                .s(8, "ext")
                                .m(13, new Pb().s(1, "location").s(2, "weights.bin"))
                                .i(14, 1));
        Path f = Files.write(tmp.resolve("enc.onnx"), Pb.model(g));
        try (OnnxCheckpoint ck = OnnxCheckpoint.open(f)) {
            assertEquals(Set.of("fd", "half", "bf", "ext"), ck.names());
            assertArrayEquals(new float[] {1, -2, 3.5f, 0}, ck.tensor("fd", 2, 2).data);
            assertArrayEquals(new float[] {1, -2, 5.9604645e-8f}, ck.tensor("half", 3).data);
            assertArrayEquals(new float[] {1, -3}, ck.tensor("bf", 2).data);
            CheckpointException e = assertThrows(CheckpointException.class, () -> ck.tensor("ext"));
            assertTrue(
                    e.getMessage().contains(f.toString())
                            && e.getMessage().contains("'ext'")
                            && e.getMessage().contains("external data not supported"),
                    e.getMessage());
            e = assertThrows(CheckpointException.class, () -> ck.tensor("halff"));
            assertTrue(e.getMessage().contains("'halff'") && e.getMessage().contains("half"), e.getMessage());
        }
    }

    private static byte[] leFloat(float v) {
        int b = Float.floatToRawIntBits(v);
        return new byte[] {(byte) b, (byte) (b >> 8), (byte) (b >> 16), (byte) (b >> 24)};
    }

    // ------------------------------------------------------------ hostile files

    private CheckpointException rejects(Path f) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> {
            try (OnnxCheckpoint ck = OnnxCheckpoint.open(f)) {
                for (String n : ck.names()) ck.tensor(n);
            }
        });
        assertTrue(e.getMessage().contains(f.toString()), "names the file: " + e.getMessage());
        return e;
    }

    @Test
    void truncatedRealModelFails() throws IOException {
        byte[] head = new byte[1000];
        try (var in = Files.newInputStream(miniLm)) {
            assertEquals(1000, in.readNBytes(head, 0, 1000));
        }
        CheckpointException e = rejects(Files.write(tmp.resolve("head.onnx"), head));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void garbageAndLiesFail() throws IOException {
        rejects(Files.write(tmp.resolve("empty.onnx"), new byte[0]));
        rejects(Files.write(tmp.resolve("text.onnx"), "this is not an onnx model at all\n".getBytes()));
        // a graph field that claims 2^40 bytes
        CheckpointException e = rejects(Files.write(
                tmp.resolve("len.onnx"),
                new Pb().tag(7, 2).varint(1L << 40).raw(new byte[16]).toBytes()));
        assertTrue(e.getMessage().contains("1099511627776"), e.getMessage());
        // an 11-byte varint
        byte[] vi = new byte[12];
        Arrays.fill(vi, (byte) 0xff);
        vi[0] = 0x08;
        rejects(Files.write(tmp.resolve("varint.onnx"), vi));
        // raw_data shorter than dims say; negative and overflowing dims
        rejects(Files.write(
                tmp.resolve("raw.onnx"),
                Pb.model(new Pb().m(5, new Pb().i(1, 4).i(2, 1).s(8, "w").bytes(9, new byte[8])))));
        e = rejects(Files.write(
                tmp.resolve("neg.onnx"),
                Pb.model(new Pb().m(5, new Pb().i(1, -3).i(2, 1).s(8, "w")))));
        assertTrue(e.getMessage().contains("'w'"), e.getMessage());
        rejects(Files.write(
                tmp.resolve("ovf.onnx"),
                Pb.model(new Pb().m(5, new Pb().i(1, 1L << 31).i(2, 1).s(8, "w")))));
        rejects(Files.write(
                tmp.resolve("ovf2.onnx"),
                Pb.model(new Pb()
                        .m(
                                5,
                                new Pb()
                                        .i(1, Integer.MAX_VALUE)
                                        .i(1, Integer.MAX_VALUE)
                                        .i(1, Integer.MAX_VALUE)
                                        .i(2, 1)
                                        .s(8, "w")))));
    }

    @Test
    void randomMutationsNeverEscapeAsAnotherException() throws IOException {
        Pb g = new Pb()
                .m(1, Pb.node("/a/MatMul", "MatMul", new String[] {"x", "onnx::MatMul_1"}, "m"))
                .m(1, Pb.node("/a/Add", "Add", new String[] {"m", "a.bias"}, "y"))
                .m(5, Pb.floatTensorRaw("onnx::MatMul_1", new float[6], 3, 2))
                .m(5, Pb.floatTensorRaw("a.bias", new float[2], 2))
                .m(11, Pb.valueInfo("x", 1, 3))
                .m(12, Pb.valueInfo("y", 1, 2));
        byte[] orig = Pb.model(g);
        Random rnd = new Random(11);
        Path f = tmp.resolve("mut.onnx");
        for (int iter = 0; iter < 2000; iter++) {
            byte[] b = orig.clone();
            for (int k = 0; k < 1 + rnd.nextInt(3); k++) b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
            Files.write(f, rnd.nextInt(4) == 0 ? Arrays.copyOf(b, rnd.nextInt(b.length)) : b);
            try (OnnxCheckpoint ck = OnnxCheckpoint.open(f)) {
                for (String n : List.copyOf(ck.names())) ck.tensor(n);
                ck.inputNames();
            } catch (CheckpointException expected) {
                assertTrue(expected.getMessage().contains(f.toString()), expected.getMessage());
            }
        }
    }

    @Test
    void nodeNameFallback() {
        assertEquals(
                "encoder.layer.0.attention.self.query",
                OnnxCheckpoint.layerFromNodeName("/encoder/layer.0/attention/self/query/MatMul"));
        assertEquals(
                "encoder.layer.3.output.dense",
                OnnxCheckpoint.layerFromNodeName("/bert/encoder/layer.3/output/dense/MatMul_1"));
        assertNull(OnnxCheckpoint.layerFromNodeName("MatMul_12"));
        assertNull(OnnxCheckpoint.layerFromNodeName("/MatMul"));
    }
}
