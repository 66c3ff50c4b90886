package attnspark.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import attnspark.batch.TokenBatch;
import attnspark.checkpoint.CheckpointException;
import attnspark.checkpoint.ModelFiles;
import attnspark.kernels.Parallel;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;

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
            if (!writable)
                System.setProperty(
                        "DJL_CACHE_DIR",
                        Path.of(System.getProperty("java.io.tmpdir"), "djl-cache")
                                .toString());
        }
    }

    /** ids include the special tokens the tokenizer's post-processor adds ([CLS]…[SEP], <s>…). */
    public record Tokens(int[] ids, boolean truncated) {}

    /** The Rust tokenizer parses the whole file in native memory: refuse what no real tokenizer needs before that. */
    static final long MAX_TOKENIZER_BYTES = 512L << 20;

    private final HuggingFaceTokenizer tokenizer;
    private final int maxLength;
    private final int maxTokenId;

    public TextTokenizer(Path tokenizerJson, int maxLength) {
        ModelFiles.requireRegularFile(tokenizerJson, "tokenizer.json");
        try {
            long size = Files.size(tokenizerJson);
            if (size > MAX_TOKENIZER_BYTES) {
                throw new CheckpointException(tokenizerJson + ": tokenizer.json is " + size + " bytes, over the "
                        + MAX_TOKENIZER_BYTES
                        + " bytes any real tokenizer needs (the largest vocabularies take ~40 MB);"
                        + " the file is damaged or not a tokenizer.");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(tokenizerJson + ": cannot read tokenizer.json (" + e.getMessage() + ")", e);
        }
        if (maxLength <= 0) throw new IllegalArgumentException("max length must be positive, got " + maxLength);
        this.maxLength = maxLength;
        try {
            HuggingFaceTokenizer.Builder b = HuggingFaceTokenizer.builder();
            // DJL caps maxLength at its own modelMaxLength (512 unless told): lift it to ours
            b.configure(Map.of("modelMaxLength", String.valueOf(maxLength)));
            tokenizer = b.optTokenizerPath(tokenizerJson)
                    .optAddSpecialTokens(true)
                    .optTruncation(true)
                    .optMaxLength(maxLength)
                    .optPadding(false)
                    .build();
            maxTokenId = readMaxTokenId(tokenizerJson);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(
                    tokenizerJson + ": cannot load tokenizer (" + ModelFiles.oneLine(e) + ")", e);
        }
    }

    public int maxLength() {
        return maxLength;
    }

    /**
     * The largest id this tokenizer can emit (its model vocabulary and added tokens), so a
     * loader can refuse a tokenizer from another model before a row reaches the embedding table.
     */
    public int maxTokenId() {
        return maxTokenId;
    }

    /** max id over model.vocab ({token: id} for WordPiece/BPE/WordLevel, [[piece, score], ...] for Unigram) and added_tokens. */
    private static int readMaxTokenId(Path tokenizerJson) throws IOException {
        JsonNode root = new ObjectMapper().readTree(tokenizerJson.toFile());
        int max = -1;
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) {
            for (JsonNode id : (Iterable<JsonNode>) vocab::elements) max = Math.max(max, id.asInt(-1));
        } else if (vocab.isArray()) {
            max = vocab.size() - 1;
        }
        for (JsonNode t : root.path("added_tokens"))
            max = Math.max(max, t.path("id").asInt(-1));
        return max;
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
        return encode(texts, true);
    }

    /**
     * The texts' ids without the post-processor's special tokens (no BOS/[CLS]...), as HF's
     * {@code tokenizer(text, add_special_tokens=False)} and lm-eval's {@code tok_encode} give them.
     */
    public Tokens[] encodeWithoutSpecialTokens(List<String> texts) {
        return encode(texts, false);
    }

    private Tokens[] encode(List<String> texts, boolean addSpecialTokens) {
        Encoding[] enc;
        if (Parallel.threads() == 1) {
            enc = new Encoding[texts.size()];
            for (int i = 0; i < enc.length; i++) enc[i] = tokenizer.encode(texts.get(i), addSpecialTokens, false);
        } else {
            enc = tokenizer.batchEncode(texts, addSpecialTokens, false);
        }
        Tokens[] out = new Tokens[enc.length];
        for (int i = 0; i < enc.length; i++) out[i] = toTokens(enc[i]);
        return out;
    }

    /**
     * Batch encode straight into a {@link TokenBatch} in a child of {@code allocator}: sequence i
     * is {@code texts.get(i)} (row index i), its ids written from the tokenizer's output into the
     * Arrow buffer without an int[] per text.
     */
    public TokenBatch encode(List<String> texts, BufferAllocator allocator) {
        Encoding[] enc = tokenizer.batchEncode(texts);
        int tokens = 0;
        for (Encoding e : enc) tokens += e.getIds().length;
        TokenBatch.Builder b = TokenBatch.builder(allocator, enc.length, tokens);
        try {
            for (int i = 0; i < enc.length; i++) b.add(i, enc[i].getIds(), enc[i].exceedMaxLength());
            return b.build();
        } catch (RuntimeException | Error e) {
            b.close();
            throw e;
        }
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
