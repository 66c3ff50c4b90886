package attnspark.checkpoint;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.testutil.Shared;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The shared real checkpoint, cross-checked against a plain decode of its bytes. */
class Stories260kCheckpointTest {
    static Path dir() {
        return Shared.stories260k();
    }

    @Test
    void namesShapesAndValuesMatchThePlainBytes() throws Exception {
        Path dir = dir();
        try (SafeTensorsCheckpoint ck = SafeTensorsCheckpoint.open(dir)) {
            assertEquals(47, ck.names().size());
            assertArrayEquals(new int[] {512, 64}, ck.shape("model.embed_tokens.weight"));

            byte[] file = Files.readAllBytes(dir.resolve("model.safetensors"));
            long hlen = 0;
            for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | (file[i] & 0xff);
            JsonNode header = new ObjectMapper().readTree(new String(file, 8, (int) hlen, StandardCharsets.UTF_8));
            for (String name : new String[] {"model.embed_tokens.weight", "model.layers.0.mlp.down_proj.weight"}) {
                JsonNode h = header.get(name);
                assertEquals("F32", h.get("dtype").asText());
                int begin = h.get("data_offsets").get(0).asInt();
                int end = h.get("data_offsets").get(1).asInt();
                float[] want = new float[(end - begin) / 4];
                for (int i = 0; i < want.length; i++) {
                    int p = 8 + (int) hlen + begin + 4 * i;
                    int bits = (file[p] & 0xff)
                            | (file[p + 1] & 0xff) << 8
                            | (file[p + 2] & 0xff) << 16
                            | (file[p + 3] & 0xff) << 24;
                    want[i] = Float.intBitsToFloat(bits);
                }
                float[] got = ck.tensor(name).data;
                assertArrayEquals(want, got, name);
                int[] shape = new int[h.get("shape").size()];
                for (int i = 0; i < shape.length; i++)
                    shape[i] = h.get("shape").get(i).asInt();
                assertArrayEquals(shape, ck.shape(name), name + " " + Arrays.toString(shape));
            }
        }
    }
}
