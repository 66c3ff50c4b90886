package attnspark.load;

import attnspark.checkpoint.ModelFiles;
import attnspark.models.HfConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;

/** Defaults from a sentence-transformers model directory, when it has the files. */
final class SentenceTransformersFiles {
    /** These files are a few hundred bytes; the cap keeps a hostile one from being read whole. */
    private static final long MAX_BYTES = 1L << 20;

    private SentenceTransformersFiles() {}

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
        Path file = dir.resolve("sentence_bert_config.json");
        JsonNode c = read(file);
        // an exact positive integer, named with its file when it is not (as config.json's sizes are)
        return c == null || !c.has("max_seq_length")
                ? dflt
                : HfConfig.read(file).getInt("max_seq_length", dflt, 1);
    }

    /** null when absent; a FIFO, device or oversized file fails naming it, like every other model file. */
    private static JsonNode read(Path p) {
        if (!ModelFiles.exists(p)) return null;
        byte[] bytes = ModelFiles.readAll(p, MAX_BYTES, p.getFileName().toString());
        try {
            return new ObjectMapper().readTree(bytes);
        } catch (IOException e) {
            throw new IllegalArgumentException(p + ": not valid JSON (" + ModelFiles.oneLine(e) + ")", e);
        }
    }
}
