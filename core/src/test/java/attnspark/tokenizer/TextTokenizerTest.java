package attnspark.tokenizer;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.checkpoint.CheckpointException;
import attnspark.testutil.Shared;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class TextTokenizerTest {
    static final String LONG = "Once upon a time there was a cat. ".repeat(120); // ~1200 tokens

    @Test
    void maxLengthIsOursNotTokenizerConfigs() {
        // stories260K's tokenizer_config.json says model_max_length 512; DJL would cap at it
        Path json = Shared.stories260k().resolve("tokenizer.json");
        try (TextTokenizer t600 = new TextTokenizer(json, 600);
                TextTokenizer big = new TextTokenizer(json, 1 << 20);
                TextTokenizer t16 = new TextTokenizer(json, 16)) {
            TextTokenizer.Tokens all = big.encode(LONG);
            assertFalse(all.truncated());
            assertTrue(all.ids().length > 600);
            TextTokenizer.Tokens cut = t600.encode(LONG);
            assertTrue(cut.truncated());
            assertEquals(600, cut.ids().length);
            assertArrayEquals(Arrays.copyOf(all.ids(), 600), cut.ids(), "truncation keeps the first tokens");
            assertEquals(16, t16.encode(LONG).ids().length);
            assertEquals(1, t16.encode(LONG).ids()[0], "BOS stays first");
        }
    }

    @Test
    void missingFileSaysWhatIsNeeded() {
        CheckpointException e = assertThrows(
                CheckpointException.class, () -> new TextTokenizer(Path.of("/nonexistent/tokenizer.json"), 8));
        assertTrue(
                e.getMessage().contains("/nonexistent/tokenizer.json")
                        && e.getMessage().contains("not found"),
                e.getMessage());
    }
}
