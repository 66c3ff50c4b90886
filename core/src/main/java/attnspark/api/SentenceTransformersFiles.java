package attnspark.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Defaults from a sentence-transformers model directory, when it has the files. */
final class SentenceTransformersFiles {
    private SentenceTransformersFiles() {
    }

    static String pooling(Path dir, String dflt) {
        JsonNode p = read(dir.resolve("1_Pooling").resolve("config.json"));
        if (p == null) return dflt;
        if (p.path("pooling_mode_cls_token").asBoolean(false)) return "cls";
        if (p.path("pooling_mode_lasttoken").asBoolean(false)) return "last";
        if (p.path("pooling_mode_mean_tokens").asBoolean(false)) return "mean";
        return dflt;
    }

    static boolean normalize(Path dir, boolean dflt) {
        JsonNode modules = read(dir.resolve("modules.json"));
        if (modules == null || !modules.isArray()) return dflt;
        for (JsonNode m : modules) {
            if (m.path("type").asText("").endsWith("Normalize")) return true;
        }
        return false;
    }

    static int maxSeqLength(Path dir, int dflt) {
        JsonNode c = read(dir.resolve("sentence_bert_config.json"));
        return c == null || !c.has("max_seq_length") ? dflt : c.get("max_seq_length").asInt(dflt);
    }

    private static JsonNode read(Path p) {
        if (!Files.isRegularFile(p)) return null;
        try {
            return new ObjectMapper().readTree(p.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(p + ": not valid JSON (" + e.getMessage() + ")", e);
        }
    }
}
