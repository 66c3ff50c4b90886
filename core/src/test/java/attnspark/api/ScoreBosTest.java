package attnspark.api;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.load.Models;
import attnspark.testutil.Shared;
import attnspark.tokenizer.TextTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scoring conditions the first token on BOS even when the tokenizer adds none (Qwen2- and
 * GPT-style tokenizers): stories260K with its BOS post-processor removed must reproduce the
 * golden scores, which were computed with BOS.
 */
class ScoreBosTest {
    @TempDir
    Path tmp;

    @Test
    void tokenizerWithoutBosStillScoresEveryTokenAfterBos() throws Exception {
        Path src = Shared.stories260k();
        Path dir = Files.createDirectory(tmp.resolve("no-bos"));
        Files.createSymbolicLink(
                dir.resolve("config.json"), src.resolve("config.json").toAbsolutePath());
        Files.createSymbolicLink(
                dir.resolve("model.safetensors"),
                src.resolve("model.safetensors").toAbsolutePath());
        ObjectMapper json = new ObjectMapper();
        ObjectNode tok =
                (ObjectNode) json.readTree(src.resolve("tokenizer.json").toFile());
        tok.putNull("post_processor"); // no <s> added any more
        json.writeValue(dir.resolve("tokenizer.json").toFile(), tok);
        try (TextTokenizer t = new TextTokenizer(dir.resolve("tokenizer.json"), 512)) {
            assertNotEquals(1, t.encode("Once upon a time").ids()[0], "the edited tokenizer adds no BOS itself");
        }

        List<JsonNode> golden = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        for (String line : Files.readAllLines(src.resolve("golden/prompts.jsonl"))) {
            if (line.isBlank()) continue;
            JsonNode g = json.readTree(line);
            golden.add(g);
            texts.add(g.get("text").asText());
        }
        try (TextScorer scorer = Models.loadScorer(ModelOptions.defaults().withModelDir(dir.toString()))) {
            List<ScoreResult> got = scorer.score(texts, true);
            for (int i = 0; i < golden.size(); i++) {
                JsonNode g = golden.get(i);
                ScoreResult r = got.get(i);
                String name = g.get("name").asText();
                int[] ids = new int[g.get("ids").size()];
                for (int k = 0; k < ids.length; k++)
                    ids[k] = g.get("ids").get(k).asInt();
                assertArrayEquals(ids, r.tokenIds(), name + ": BOS prepended, then the tokenizer's ids");
                assertEquals(g.get("n_scored").asInt(), r.nTokens(), name);
                assertEquals(g.get("nll").asDouble(), r.nll(), 1e-4 * r.nTokens(), name + " nll");
            }
        }
    }
}
