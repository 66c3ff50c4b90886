package attnspark.corpus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import attnspark.checkpoint.BundledModel;
import attnspark.corpus.CorpusGenerator.Kind;
import attnspark.tokenizer.TextTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CorpusGeneratorTest {
    private static TextTokenizer tokenizer;

    @BeforeAll
    static void tokenizer() {
        // the real all-MiniLM-L6-v2 tokenizer, with room above the longest row so nothing is cut
        tokenizer = new TextTokenizer(BundledModel.materialize().resolve("tokenizer.json"), 512);
    }

    private static String corpus(Kind kind, long rows, long seed) throws IOException {
        StringWriter w = new StringWriter();
        CorpusGenerator.write(kind, rows, seed, w);
        return w.toString();
    }

    @Test
    void sameSeedGivesTheSameBytesAndTheFileEqualsTheStream(@TempDir Path dir) throws IOException {
        for (Kind kind : Kind.values()) {
            Path a = dir.resolve(kind.cliName() + "-a.jsonl");
            Path b = dir.resolve(kind.cliName() + "-b.jsonl");
            CorpusGenerator.write(kind, 200, 7, a);
            CorpusGenerator.write(kind, 200, 7, b);
            assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b), kind + ": same seed, different bytes");
            assertArrayEquals(corpus(kind, 200, 7).getBytes(StandardCharsets.UTF_8), Files.readAllBytes(a));
            assertNotEquals(corpus(kind, 200, 7), corpus(kind, 200, 8), kind + ": seeds 7 and 8 gave the same corpus");
            try (var files = Files.list(dir)) {
                assertEquals(
                        List.of(),
                        files.filter(p -> p.getFileName().toString().endsWith(".tmp"))
                                .toList(),
                        "staging file left behind");
            }
        }
    }

    @Test
    void onlyARegularFileIsReplaced(@TempDir Path dir) throws IOException {
        // staging + atomic move would replace a link such as /dev/stdout by a plain file
        Path target = Files.writeString(dir.resolve("target.txt"), "keep");
        Path link = Files.createSymbolicLink(dir.resolve("link.jsonl"), target);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> CorpusGenerator.write(Kind.SHORT, 3, 1, link));
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
        assertTrue(Files.isSymbolicLink(link));
        assertEquals("keep", Files.readString(target));
        assertThrows(IllegalArgumentException.class, () -> CorpusGenerator.write(Kind.SHORT, 3, 1, dir));
    }

    @Test
    void aShorterCorpusIsAPrefixOfALongerOne() throws IOException {
        String small = corpus(Kind.SHORT, 50, 3);
        String big = corpus(Kind.SHORT, 500, 3);
        assertTrue(big.startsWith(small));
        assertEquals(500, big.lines().count());
    }

    @Test
    void rowsAreJsonLinesWithIdAndText() throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<String> lines = corpus(Kind.LONG, 20, 1).lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            JsonNode row = json.readTree(lines.get(i));
            assertEquals(String.valueOf(i), row.get("id").asText());
            assertEquals(CorpusGenerator.text(Kind.LONG, 1, i), row.get("text").asText());
            assertEquals(2, row.size());
        }
    }

    @Test
    void tokenLengthsStayInTheStatedRangeWithTheRealTokenizer() {
        check(Kind.SHORT, 1000, 3.0);
        check(Kind.LONG, 300, 1.5);
    }

    /** Every length in range, never truncated, the range's ends reached, mean near the middle of the uniform range. */
    private static void check(Kind kind, int rows, double meanTolerance) {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < rows; i++) texts.add(CorpusGenerator.text(kind, 11, i));
        int[] lengths = Arrays.stream(tokenizer.encode(texts))
                .mapToInt(t -> {
                    assertFalse(t.truncated());
                    return t.ids().length;
                })
                .toArray();
        int min = Arrays.stream(lengths).min().orElseThrow();
        int max = Arrays.stream(lengths).max().orElseThrow();
        double mean = Arrays.stream(lengths).average().orElseThrow();
        assertTrue(
                min >= kind.minTokens && max <= kind.maxTokens,
                kind + ": token lengths " + min + ".." + max + " outside " + kind.minTokens + ".." + kind.maxTokens);
        assertTrue(
                min <= kind.minTokens + 2 && max >= kind.maxTokens - 2,
                kind + ": range not covered: " + min + ".." + max);
        double middle = (kind.minTokens + kind.maxTokens) / 2.0;
        assertEquals(middle, mean, meanTolerance, kind + ": mean token length");
    }

    @Test
    void everyWordIsOneTokenOfTheTokenizer() {
        List<String> words = List.of(CorpusGenerator.words());
        assertEquals(8001, words.size());
        TextTokenizer.Tokens[] t = tokenizer.encode(words);
        for (int i = 0; i < t.length; i++) {
            assertEquals(3, t[i].ids().length, "'" + words.get(i) + "' is not one token ([CLS] w [SEP])");
        }
    }

    @Test
    void wordsFollowZipfsLaw() {
        // P(rank r) = (1/r) / H(n), H(n) = ln n + Euler-Mascheroni + 1/(2n) + ...: "the" is rank 1, "of" rank 2
        int n = CorpusGenerator.words().length;
        double harmonic = Math.log(n) + 0.5772156649 + 1.0 / (2 * n);
        long words = 0, the = 0, of = 0;
        for (int i = 0; i < 3000; i++) {
            for (String w : CorpusGenerator.text(Kind.SHORT, 5, i).split("[ ,.]+")) {
                if (w.isEmpty()) continue;
                words++;
                if (w.equalsIgnoreCase("the")) the++;
                if (w.equalsIgnoreCase("of")) of++;
            }
        }
        assertEquals(1 / harmonic, (double) the / words, 0.006, "share of rank 1 among " + words + " words");
        assertEquals(0.5 / harmonic, (double) of / words, 0.005, "share of rank 2 among " + words + " words");
    }
}
