package attnspark.api;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import org.junit.jupiter.api.Test;

/** ModelOptions is a replica cache key shipped to executors: value equality and every with* touching one field. */
class ModelOptionsTest {
    @Test
    void eachWithChangesOnlyItsField() {
        ModelOptions d = ModelOptions.defaults();
        assertEquals(
                new ModelOptions(null, "sdpa", 0, null, null, 8192, false, 0, 0, 0, ScoringMode.FULL, null, false), d);
        ModelOptions all = d.withModelDir("/m")
                .withAttn("eager")
                .withMaxLength(64)
                .withPooling("cls")
                .withNormalize(false)
                .withBatchTokens(512)
                .withBidirectional(true)
                .withAttentionChunk(16)
                .withWindow(128, 32)
                .withKernelsDir("/k")
                .withAllowAllKernels(true);
        assertEquals(
                new ModelOptions(
                        "/m", "eager", 64, "cls", false, 512, true, 16, 128, 32, ScoringMode.HF_STRIDED, "/k", true),
                all);
        assertEquals(
                new ModelOptions(null, "sdpa", 0, null, null, 8192, false, 0, 0, 0, ScoringMode.FULL, "/k", false),
                d.withKernelsDir("/k"));
    }

    @Test
    void equalOptionsAreOneCacheKeyAcrossSerialization() throws Exception {
        ModelOptions a = ModelOptions.defaults().withModelDir("/m").withWindow(8, 4);
        ModelOptions b = ModelOptions.defaults().withWindow(8, 4).withModelDir("/m");
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(a);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            assertEquals(a, in.readObject());
        }
    }
}
