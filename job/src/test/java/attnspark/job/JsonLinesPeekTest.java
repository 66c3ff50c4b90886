package attnspark.job;

import static org.junit.jupiter.api.Assertions.*;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.zip.GZIPOutputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The driver's own reading of JSON lines input against Spark's reader of the same files: the
 * record count (blank and whitespace lines, CRLF, a malformed line, no final newline) and the
 * top-level field names (Spark's inferred schema, less the corrupt-record column).
 */
class JsonLinesPeekTest {
    static SparkSession spark;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        spark = JobTesting.localSpark("json-lines-peek-test");
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    static final String AWKWARD = "{\"id\":\"a\",\"text\":\"one\"}\n"
            + "\n"
            + "   \t \n"
            + "{\"id\":\"b\",\"text\":\"two\",\"lang\":\"en\"}\r\n"
            + "\r\n"
            + "{\"id\": \"c\", \"text\": \"three\n" // a record cut by a newline: two malformed lines
            + "\", \"score\": 3}\n"
            + "not json at all\n"
            + "  {\"Extra\": {\"nested\": [1, 2, {\"deep\": true}]}, \"id\": \"d\", \"text\": \"four\"}  \n"
            + "{\"id\":\"e\",\"text\":\"no final newline\"}";

    static FileStatus status(Path p) throws Exception {
        return FileSystem.getLocal(new Configuration()).getFileStatus(new org.apache.hadoop.fs.Path(p.toString()));
    }

    @Test
    void recordsCountedOnTheDriverAreTheRowsSparkReads() throws Exception {
        Path one = tmp.resolve("awkward.jsonl");
        Files.writeString(one, AWKWARD);
        Path two = tmp.resolve("plain.jsonl");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 500; i++) sb.append("{\"id\":\"p").append(i).append("\",\"text\":\"x\"}\n");
        Files.writeString(two, sb);
        for (List<Path> files : List.of(List.of(one), List.of(two), List.of(one, two))) {
            List<FileStatus> st = new ArrayList<>();
            List<String> paths = new ArrayList<>();
            for (Path f : files) {
                st.add(status(f));
                paths.add(f.toString());
            }
            long spark = JsonLinesPeekTest.spark
                    .read()
                    .option("mode", "PERMISSIVE")
                    .json(paths.toArray(new String[0]))
                    .count();
            assertEquals(
                    OptionalLong.of(spark), JsonLinesPeek.records(new Configuration(), st, 1 << 20), files.toString());
        }
    }

    @Test
    void compressedOrLargeInputIsLeftToSpark() throws Exception {
        Path gz = tmp.resolve("small.jsonl.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
            out.write(AWKWARD.getBytes(StandardCharsets.UTF_8));
        }
        assertEquals(OptionalLong.empty(), JsonLinesPeek.records(new Configuration(), List.of(status(gz)), 1 << 20));
        Path plain = tmp.resolve("over.jsonl");
        Files.writeString(plain, AWKWARD);
        assertEquals(
                OptionalLong.empty(),
                JsonLinesPeek.records(new Configuration(), List.of(status(plain)), AWKWARD.length() - 1));
    }

    @Test
    void fieldNamesAreTheColumnsSparkInfers() throws Exception {
        Path plain = tmp.resolve("names.jsonl");
        Files.writeString(plain, AWKWARD);
        Path gz = tmp.resolve("names.jsonl.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
            out.write(AWKWARD.getBytes(StandardCharsets.UTF_8));
        }
        List<String> inferred = new ArrayList<>();
        for (String f : spark.read()
                .option("mode", "PERMISSIVE")
                .json(plain.toString())
                .schema()
                .fieldNames()) {
            if (!f.equals("_corrupt_record")) inferred.add(f);
        }
        for (Path p : List.of(plain, gz)) {
            List<String> peeked = JsonLinesPeek.fieldNames(new Configuration(), List.of(status(p)), 1000);
            // Spark sorts the inferred fields by name; the peek keeps their order of appearance
            assertEquals(inferred, peeked.stream().sorted().toList(), p.toString());
        }
        // the sample stops after its lines: "lang" first appears on the second record
        assertEquals(List.of("id", "text"), JsonLinesPeek.fieldNames(new Configuration(), List.of(status(plain)), 1));
    }
}
