package attnspark.attention.flex;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import attnspark.models.SequenceBatch;
import attnspark.models.llama.LlamaModel;
import attnspark.testutil.Shared;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** flex_attention as a drop-in backend of the real stories260K Llama (GQA 8/4, right padding): same hidden states as sdpa. */
class FlexModelTest {
    @Test
    void llamaWithFlexMatchesSdpaOnAPaddedBatch() throws IOException {
        Path dir = Shared.stories260k();
        ObjectMapper om = new ObjectMapper();
        List<int[]> ids = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("golden/prompts.jsonl"))) {
            if (line.isBlank()) continue;
            JsonNode arr = om.readTree(line).get("ids");
            int[] r = new int[arr.size()];
            for (int i = 0; i < r.length; i++) r[i] = arr.get(i).asInt();
            ids.add(r);
        }
        SequenceBatch batch = new SequenceBatch(ids.toArray(new int[0][]));
        float[] sdpa = LlamaModel.fromPretrained(dir, "sdpa").forward(batch, Map.of());
        float[] flex = LlamaModel.fromPretrained(dir, "flex_attention").forward(batch, Map.of());
        assertEquals(sdpa.length, flex.length);
        double maxErr = 0;
        for (int i = 0; i < sdpa.length; i++) maxErr = Math.max(maxErr, Math.abs(sdpa[i] - flex[i]));
        assertTrue(maxErr <= 1e-4, "max |sdpa - flex| = " + maxErr);
    }
}
