package attnspark.job;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.compress.CompressionCodec;
import org.apache.hadoop.io.compress.CompressionCodecFactory;

/**
 * What the driver reads of JSON lines input itself, where Spark would run jobs for it: the
 * top-level field names of the first lines (Spark's schema inference costs two jobs, ~2 s of the
 * 20,000-text job on 2 cores, and the job needs only the names of its id and text columns) and
 * the number of records of a small uncompressed input, for the progress ETA (a Spark count is
 * another job, ~1.5 s).
 */
final class JsonLinesPeek {
    private JsonLinesPeek() {}

    /** Inputs up to this size are counted on the driver (~0.3 s from the page cache); larger ones by a Spark job. */
    static final long MAX_COUNTED_BYTES = 256L << 20;

    private static final JsonFactory JSON = new JsonFactory();

    /**
     * The top-level field names, in order of first appearance, of the JSON objects among the
     * first {@code lines} non-blank lines of {@code files} (read in order, through the Hadoop
     * codec their suffix names). Lines that are not JSON objects are skipped, as Spark's
     * inference leaves malformed records out of the schema.
     */
    static List<String> fieldNames(Configuration conf, List<FileStatus> files, int lines) throws IOException {
        Set<String> names = new LinkedHashSet<>();
        int seen = 0;
        CompressionCodecFactory codecs = new CompressionCodecFactory(conf);
        for (FileStatus file : files) {
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(open(conf, codecs, file.getPath()), StandardCharsets.UTF_8))) {
                for (String line; seen < lines && (line = r.readLine()) != null; ) {
                    if (!line.isBlank()) {
                        seen++;
                        addFields(line, names);
                    }
                }
            }
            if (seen >= lines) {
                break;
            }
        }
        return List.copyOf(names);
    }

    private static void addFields(String line, Set<String> names) {
        Set<String> fields = new LinkedHashSet<>();
        try (JsonParser p = JSON.createParser(line)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return;
            }
            for (JsonToken t; (t = p.nextToken()) == JsonToken.FIELD_NAME; ) {
                fields.add(p.getCurrentName());
                p.nextToken();
                p.skipChildren();
            }
            if (p.currentToken() != JsonToken.END_OBJECT) {
                return;
            }
        } catch (IOException malformed) {
            return; // a corrupt record: no columns from it
        }
        names.addAll(fields);
    }

    /**
     * The records Spark reads from {@code files}, counted on the driver: the lines with anything
     * but spaces and tabs on them (Spark's JSON reader yields no row for a blank line), when no
     * file is compressed and all together hold at most {@code maxBytes}; empty otherwise. A line
     * holding a top-level JSON array, which Spark reads as one row per element, counts as one.
     */
    static OptionalLong records(Configuration conf, List<FileStatus> files, long maxBytes) throws IOException {
        CompressionCodecFactory codecs = new CompressionCodecFactory(conf);
        long bytes = 0;
        for (FileStatus file : files) {
            bytes += file.getLen();
            if (codecs.getCodec(file.getPath()) != null || bytes > maxBytes) {
                return OptionalLong.empty();
            }
        }
        long records = 0;
        byte[] buf = new byte[1 << 16];
        for (FileStatus file : files) {
            try (InputStream in = file.getPath().getFileSystem(conf).open(file.getPath())) {
                boolean content = false; // the current line has a non-blank byte
                for (int n; (n = in.read(buf)) > 0; ) {
                    for (int i = 0; i < n; i++) {
                        byte b = buf[i];
                        if (b == '\n' || b == '\r') {
                            records += content ? 1 : 0;
                            content = false;
                        } else if (b != ' ' && b != '\t') {
                            content = true;
                        }
                    }
                }
                records += content ? 1 : 0;
            }
        }
        return OptionalLong.of(records);
    }

    private static InputStream open(Configuration conf, CompressionCodecFactory codecs, Path path) throws IOException {
        FileSystem fs = path.getFileSystem(conf);
        CompressionCodec codec = codecs.getCodec(path);
        InputStream raw = fs.open(path);
        return codec == null ? raw : codec.createInputStream(raw);
    }
}
