package attnspark.api;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * n_words must be CPython's {@code len(re.split(r"\s+", text))} and n_bytes the UTF-8 length.
 * Each expected count below is worked out by hand from Python's semantics (no Python here):
 * re.split returns the pieces between matches, so the count is the number of maximal
 * whitespace runs + 1, empty pieces at either end included; {@code \s} on a str is
 * {@code str.isspace()}.
 */
class TextStatsTest {
    private record Case(String text, long words, String why) {}

    private static final Case[] CASES = {
        new Case("", 1, "re.split on '' gives [''], one (empty) piece"),
        new Case("hello", 1, "no match: ['hello']"),
        new Case("hello world", 2, "one run: ['hello', 'world']"),
        new Case("hello   world", 2, "'   ' is one \\s+ match"),
        new Case(" hello", 2, "leading run: ['', 'hello']"),
        new Case("hello ", 2, "trailing run: ['hello', '']"),
        new Case(" a ", 3, "['', 'a', '']"),
        new Case("   ", 2, "one run, empty both sides: ['', '']"),
        new Case("a\tb\nc\rd\u000be\ff", 6, "\\t \\n \\r \\v \\f are each one run: 5 runs"),
        new Case("a \t\r\n b", 2, "mixed whitespace is still one run"),
        new Case("a\u001cb\u001dc\u001ed\u001ff", 5, "\\x1c..\\x1f are str.isspace() (bidi B/S): 4 runs"),
        new Case("a\u0085b", 2, "NEL \\x85 is whitespace in str patterns"),
        new Case("a\u00a0b", 2, "NO-BREAK SPACE \\xa0 is category Zs (Java's isWhitespace says no)"),
        new Case("a\u1680b\u2000c\u200ad", 4, "OGHAM SPACE MARK, EN QUAD, HAIR SPACE: Zs"),
        new Case("a\u2007b\u202fc", 3, "FIGURE SPACE and NARROW NBSP are Zs (Java's isWhitespace says no)"),
        new Case("a\u2028b\u2029c\u205fd\u3000e", 5, "LINE/PARAGRAPH SEPARATOR, MEDIUM MATH SPACE, IDEOGRAPHIC SPACE"),
        new Case("a\u200bb", 1, "ZERO WIDTH SPACE is Cf, not whitespace: no split"),
        new Case("a\u180eb", 1, "MONGOLIAN VOWEL SEPARATOR has been Cf since Unicode 6.3: no split"),
        new Case("a\ufeffb", 1, "BOM / ZWNBSP is Cf: no split"),
        new Case("\uD83D\uDE00 \uD83D\uDE00", 2, "non-BMP emoji are not whitespace; one space between"),
        new Case("\uD83D\uDE00\uD83D\uDE00", 1, "two astral characters, no whitespace"),
        new Case(
                "𝔘𝔫𝔦\u3000𝔠𝔬𝔡𝔢 ",
                3,
                "astral letters, ideographic space, trailing space: ['𝔘𝔫𝔦', '𝔠𝔬𝔡𝔢', '']"),
    };

    @Test
    void wordsMatchPythonReSplit() {
        for (Case c : CASES) {
            assertEquals(c.words, TextStats.words(c.text), c.why);
            assertEquals(c.words, TextStats.of(c.text).nWords(), c.why);
        }
    }

    @Test
    void bytesAreUtf8Lengths() {
        // counted by hand: ASCII 1 byte, U+00E9 2 bytes, U+20AC (€) 3 bytes, U+1F600 (emoji) 4 bytes
        assertEquals(0, TextStats.of("").nBytes());
        assertEquals(5, TextStats.of("hello").nBytes());
        assertEquals(2, TextStats.of("\u00e9").nBytes());
        assertEquals(3, TextStats.of("\u20ac").nBytes());
        assertEquals(4, TextStats.of("\uD83D\uDE00").nBytes());
        assertEquals(1 + 2 + 3 + 4, TextStats.of("a\u00e9\u20ac\uD83D\uDE00").nBytes());
        assertEquals(3, TextStats.of("\u3000").nBytes());
    }

    @Test
    void bitsPerByteIsNllOverLn2OverBytesAndNullWhenItWouldMislead() {
        String text = "caf\u00e9 \u20ac"; // 3 + 2 + 1 + 3 = 9 bytes
        assertEquals(9, text.getBytes(StandardCharsets.UTF_8).length);
        ScoreResult r = new ScoreResult(4, 10.0, Math.exp(2.5), null, null, false).withText(text);
        assertEquals(10.0 / Math.log(2) / 9, r.bitsPerByte(), 1e-15);
        assertEquals(9, r.text().nBytes());
        assertEquals(2, r.text().nWords());
        assertNull(
                new ScoreResult(0, 0.0, Double.NaN, null, null, false)
                        .withText("")
                        .bitsPerByte(),
                "no bytes");
        assertNull(
                new ScoreResult(4, 10.0, Math.exp(2.5), null, null, true)
                        .withText(text)
                        .bitsPerByte(),
                "a truncated document's nll does not cover its bytes");
        assertNull(
                new ScoreResult(4, 10.0, Math.exp(2.5), null, null, false).bitsPerByte(), "no text: token-id scoring");
    }
}
