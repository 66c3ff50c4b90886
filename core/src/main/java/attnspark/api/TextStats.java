package attnspark.api;

import java.nio.charset.StandardCharsets;

/**
 * The size of a text in the units corpus-level perplexities are quoted in: UTF-8 bytes (bits
 * per byte, byte perplexity) and words as lm-evaluation-harness counts them (word perplexity).
 *
 * @param nBytes UTF-8 bytes of the text as given (before any truncation), as Spark stores the string
 * @param nWords {@code len(re.split(r"\s+", text))} in CPython, see {@link #words(String)}
 */
public record TextStats(long nBytes, long nWords) {
    public static TextStats of(String text) {
        return new TextStats(text.getBytes(StandardCharsets.UTF_8).length, words(text));
    }

    /**
     * lm-eval's word count ({@code lm_eval/tasks/wikitext/preprocess_wikitext.py} and the
     * perplexity tasks' {@code process_results}: {@code len(re.split(r"\s+", doc))}). Splitting
     * on a pattern gives one piece more than there are matches, and {@code \s+} matches each
     * maximal run of whitespace once, so the count is (whitespace runs) + 1. Leading and trailing
     * runs still split off an empty piece, which Python counts: {@code " a "} is 3, {@code ""} is 1.
     */
    public static long words(String text) {
        long runs = 0;
        boolean inRun = false;
        for (int i = 0; i < text.length(); i++) {
            boolean ws = isPythonWhitespace(text.charAt(i));
            if (ws && !inRun) runs++;
            inRun = ws;
        }
        return runs + 1;
    }

    /**
     * Python's {@code \s} on a str pattern: the characters {@code str.isspace()} accepts
     * (CPython's {@code _PyUnicode_IsWhitespace}: bidirectional class WS, B or S, or category Zs).
     * All are in the Basic Multilingual Plane, so a UTF-16 surrogate is never whitespace and
     * walking chars instead of code points gives the same runs. Java's
     * {@link Character#isWhitespace} differs (it excludes U+00A0, U+2007, U+202F and includes
     * none of U+0085), hence the explicit list.
     */
    static boolean isPythonWhitespace(char c) {
        return switch (c) {
            case '\t',
                    '\n',
                    '\u000b',
                    '\f',
                    '\r',
                    '\u001c',
                    '\u001d',
                    '\u001e',
                    '\u001f',
                    ' ',
                    '\u0085',
                    '\u00a0',
                    '\u1680',
                    '\u2028',
                    '\u2029',
                    '\u202f',
                    '\u205f',
                    '\u3000' -> true;
            default -> c >= '\u2000' && c <= '\u200a';
        };
    }
}
