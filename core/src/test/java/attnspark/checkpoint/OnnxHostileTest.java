package attnspark.checkpoint;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import attnspark.api.ModelOptions;
import attnspark.load.Models;
import attnspark.models.Weights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * ONNX exports that lie: dims claiming 8 GB of floats over 8 bytes of data (the reader must
 * compare before allocating: on a 6 GB heap the allocation alone would end the JVM), NaN
 * weights, and an embedding width the rest of the graph contradicts (blamed on the tensor,
 * not on the head-count search). The 30 s bound is a hang guard only.
 */
class OnnxHostileTest {
    @TempDir
    Path tmp;

    static void fails(Executable load, String... parts) {
        CheckpointException e =
                assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThrows(CheckpointException.class, load));
        for (String p : parts)
            assertTrue(e.getMessage().contains(p), "message should mention '" + p + "': " + e.getMessage());
    }

    @Test
    void dimsThatLieAboutTheDataFailBeforeAllocating() throws Exception {
        // 500,000,000 x 4 floats = 8 GB claimed, 8 bytes present
        Path raw = Files.write(
                tmp.resolve("raw.onnx"),
                Pb.model(new Pb()
                        .m(
                                5,
                                new Pb()
                                        .i(1, 500_000_000)
                                        .i(1, 4)
                                        .i(2, 1)
                                        .s(8, "w")
                                        .bytes(9, new byte[8]))));
        try (OnnxCheckpoint ck = OnnxCheckpoint.open(raw)) {
            fails(() -> ck.tensor("w"), raw.toString(), "'w'", "8 bytes of raw_data", "[500000000, 4]");
        }
        Path listed = Files.write(
                tmp.resolve("listed.onnx"),
                Pb.model(new Pb()
                        .m(
                                5,
                                new Pb()
                                        .i(1, 500_000_000)
                                        .i(1, 4)
                                        .i(2, 1)
                                        .s(8, "w")
                                        .tag(4, 5)
                                        .raw(new byte[4]))));
        try (OnnxCheckpoint ck = OnnxCheckpoint.open(listed)) {
            fails(() -> ck.tensor("w"), "'w'", "1 values in float_data");
        }
    }

    @Test
    void nanWeightIsNamedWhenTheModelReadsIt() throws Exception {
        Path f = Files.write(
                tmp.resolve("nan.onnx"),
                Pb.model(new Pb().m(5, Pb.floatTensorRaw("w", new float[] {1, Float.NaN, 2, 3}, 2, 2))));
        try (OnnxCheckpoint ck = OnnxCheckpoint.open(f)) {
            fails(
                    () -> new Weights(ck, "").get("w", 2, 2),
                    f.toString(),
                    "tensor 'w'",
                    "non-finite",
                    "NaN at flat index 1");
        }
    }

    @Test
    void embeddingWidthThatLiesIsBlamedOnTheTensors() throws Exception {
        Pb g = new Pb()
                .m(5, Pb.floatTensorRaw("embeddings.word_embeddings.weight", new float[10 * 12], 10, 12))
                .m(5, Pb.floatTensorRaw("embeddings.position_embeddings.weight", new float[16 * 8], 16, 8))
                .m(5, Pb.floatTensorRaw("encoder.layer.0.attention.self.query.weight", new float[8 * 8], 8, 8))
                .m(5, Pb.floatTensorRaw("encoder.layer.0.intermediate.dense.weight", new float[32 * 8], 32, 8));
        Path dir = Files.createDirectories(tmp.resolve("export"));
        Path f = Files.write(dir.resolve("model.onnx"), Pb.model(g));
        fails(
                () -> Models.loadEmbedder(ModelOptions.defaults().withModelDir(dir.toString())),
                f.toString(),
                "'embeddings.word_embeddings.weight' [10, 12]",
                "hidden size 12",
                "'embeddings.position_embeddings.weight' has shape [16, 8]");
    }
}
