package attnspark.checkpoint;

import static org.junit.jupiter.api.Assertions.*;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.Test;

class BundledModelTest {
    private static long resourceLength(String name) throws Exception {
        try (InputStream in = BundledModel.class.getResourceAsStream(name)) {
            assertNotNull(in, name);
            return in.transferTo(OutputStream.nullOutputStream());
        }
    }

    @Test
    void materializesBothFilesOnceWithTheResourceSizes() throws Exception {
        Path dir = BundledModel.materialize();
        Path onnx = dir.resolve("model.onnx"), tok = dir.resolve("tokenizer.json");
        assertEquals(resourceLength("/all-minilm-l6-v2.onnx"), Files.size(onnx));
        assertEquals(resourceLength("/all-minilm-l6-v2-tokenizer.json"), Files.size(tok));
        assertTrue(dir.getFileName().toString().equals("all-minilm-l6-v2-" + Files.size(onnx)), dir.toString());
        assertTrue(Files.readString(tok).contains("\"[CLS]\""));
        assertEquals("all-MiniLM-L6-v2", BundledModel.NAME);

        // a present, complete copy is reused, not rewritten
        FileTime before = Files.getLastModifiedTime(onnx);
        assertEquals(dir, BundledModel.materialize());
        assertEquals(before, Files.getLastModifiedTime(onnx));
        try (var s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".part")), "no temp files left");
        }
    }
}
