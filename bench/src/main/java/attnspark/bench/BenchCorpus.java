package attnspark.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The texts both engines embed, and the JSON-lines file the CLI job reads for the same texts.
 *
 * @param name     what the texts are, for the report
 * @param jobInput a JSON-lines file (id, text) holding exactly {@code texts}
 */
public record BenchCorpus(String name, Path jobInput, List<String> texts) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The first {@code limit} texts (0 = all) of {@link #load(Path, Path, Path)}; a cut corpus is written as JSON lines into {@code out} for the job. */
    public static BenchCorpus load(Path input, Path shared, Path out, int limit) throws IOException {
        BenchCorpus all = load(input, shared, out);
        if (limit <= 0 || all.texts.size() <= limit) return all;
        List<String> texts = all.texts.subList(0, limit);
        return new BenchCorpus(
                "the first " + limit + " of " + all.name,
                writeJsonLines(texts, out.resolve("input-first-" + limit + ".jsonl")),
                texts);
    }

    /** {@code input} (null = the STS-B test sentences under {@code shared}); non-JSON inputs are written as JSON lines into {@code out}. */
    public static BenchCorpus load(Path input, Path shared, Path out) throws IOException {
        if (input == null) {
            Path sts = shared.resolve("data/stsb/sts-test.csv");
            if (!Files.isRegularFile(sts)) {
                throw new IllegalArgumentException(
                        sts + ": STS-B test file not found; pass --input FILE or put ../shared beside the repository");
            }
            List<String> texts = new ArrayList<>();
            for (String line : Files.readAllLines(sts, StandardCharsets.UTF_8)) {
                String[] f = line.split("\t");
                if (f.length >= 7) { // genre, file, year, id, score, sentence 1, sentence 2
                    texts.add(f[5]);
                    texts.add(f[6]);
                }
            }
            return new BenchCorpus(
                    "STS-B test sentences (" + sts + ")", writeJsonLines(texts, out.resolve("stsb-test.jsonl")), texts);
        }
        if (!Files.isRegularFile(input)) throw new IllegalArgumentException("--input " + input + ": no such file");
        String name = input.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".jsonl") || name.endsWith(".json") || name.endsWith(".ndjson")) {
            return new BenchCorpus(input.toString(), input, readJsonLines(input));
        }
        if (name.endsWith(".txt")) {
            List<String> texts = Files.readAllLines(input, StandardCharsets.UTF_8).stream()
                    .filter(s -> !s.isBlank())
                    .toList();
            return new BenchCorpus(input.toString(), writeJsonLines(texts, out.resolve("input.jsonl")), texts);
        }
        throw new IllegalArgumentException("--input " + input
                + ": expected .jsonl/.json/.ndjson (a \"text\" field per line) or .txt (one text per line)");
    }

    /** The {@code text} field of every line; a line without one fails, naming file and line. */
    static List<String> readJsonLines(Path file) throws IOException {
        List<String> texts = new ArrayList<>();
        int lineNo = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            lineNo++;
            if (line.isBlank()) continue;
            JsonNode row;
            try {
                row = JSON.readTree(line);
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException(
                        file + ", line " + lineNo + ": not JSON (" + e.getOriginalMessage() + ")");
            }
            JsonNode text = row.get("text");
            if (text == null || !text.isTextual()) {
                throw new IllegalArgumentException(file + ", line " + lineNo
                        + ": expected a string field \"text\", found " + (text == null ? "none" : text.getNodeType())
                        + "; the bench times every row, so every row needs a text");
            }
            texts.add(text.asText());
        }
        if (texts.isEmpty()) throw new IllegalArgumentException(file + ": no rows");
        return texts;
    }

    private static Path writeJsonLines(List<String> texts, Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (int i = 0; i < texts.size(); i++) {
                ObjectNode row =
                        JSON.createObjectNode().put("id", String.valueOf(i)).put("text", texts.get(i));
                w.write(JSON.writeValueAsString(row));
                w.write('\n');
            }
        }
        return file;
    }
}
