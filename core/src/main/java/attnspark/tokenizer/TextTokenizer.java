package attnspark.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import attnspark.kernels.Parallel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A tokenizer.json run by the HF tokenizers Rust library (through DJL, offline). Truncation
 * and padding come from here, never from the file: all-MiniLM's tokenizer.json pads and
 * truncates at 128 on its own, and DJL would read a tokenizer_config.json's 512.
 */
public final class TextTokenizer implements AutoCloseable {
    static {
        // DJL's api module phones an instance-metadata address unless told not to; keep runs offline.
        if (System.getenv("OPT_OUT_TRACKING") == null) System.setProperty("OPT_OUT_TRACKING", "true");
        if (System.getenv("DJL_CACHE_DIR") == null && System.getProperty("DJL_CACHE_DIR") == null) {
            Path home = Path.of(System.getProperty("user.home", "/tmp"), ".djl.ai");
            boolean writable = Files.isWritable(home) || (!Files.exists(home) && Files.isWritable(home.getParent()));
            if (!writable) System.setProperty("DJL_CACHE_DIR", Path.of(System.getProperty("java.io.tmpdir"), "djl-cache").toString());
        }
    }

    /** ids include the special tokens the tokenizer's post-processor adds ([CLS]…[SEP], <s>…). */
    public record Tokens(int[] ids, boolean truncated) {
    }

    private final HuggingFaceTokenizer tokenizer;
    private final int maxLength;

    public TextTokenizer(Path tokenizerJson, int maxLength) {
        if (!Files.isRegularFile(tokenizerJson)) {
            throw new IllegalArgumentException(tokenizerJson + ": tokenizer.json not found; the model directory needs one");
        }
        if (maxLength <= 0) throw new IllegalArgumentException("max length must be positive, got " + maxLength);
        this.maxLength = maxLength;
        try {
            HuggingFaceTokenizer.Builder b = HuggingFaceTokenizer.builder();
            // DJL caps maxLength at its own modelMaxLength (512 unless told): lift it to ours
            b.configure(java.util.Map.of("modelMaxLength", String.valueOf(maxLength)));
            tokenizer = b
                    .optTokenizerPath(tokenizerJson)
                    .optAddSpecialTokens(true)
                    .optTruncation(true)
                    .optMaxLength(maxLength)
                    .optPadding(false)
                    .build();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(tokenizerJson + ": cannot load tokenizer (" + e.getMessage() + ")", e);
        }
    }

    public int maxLength() {
        return maxLength;
    }

    public Tokens encode(String text) {
        return toTokens(tokenizer.encode(text));
    }

    /**
     * Batch encode: parallel in the Rust library (its own pool of one thread per processor), so
     * with a one-thread {@link Parallel#scope} (a 1-core Spark task) texts are encoded one by one
     * on the caller instead.
     */
    public Tokens[] encode(List<String> texts) {
        Encoding[] enc;
        if (Parallel.threads() == 1) {
            enc = new Encoding[texts.size()];
            for (int i = 0; i < enc.length; i++) enc[i] = tokenizer.encode(texts.get(i));
        } else {
            enc = tokenizer.batchEncode(texts);
        }
        Tokens[] out = new Tokens[enc.length];
        for (int i = 0; i < enc.length; i++) out[i] = toTokens(enc[i]);
        return out;
    }

    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) l[i] = ids[i];
        return tokenizer.decode(l, true);
    }

    private static Tokens toTokens(Encoding e) {
        long[] l = e.getIds();
        int[] ids = new int[l.length];
        for (int i = 0; i < l.length; i++) ids[i] = (int) l[i];
        return new Tokens(ids, e.exceedMaxLength());
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
