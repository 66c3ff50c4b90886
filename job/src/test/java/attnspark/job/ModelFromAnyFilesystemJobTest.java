package attnspark.job;

import static attnspark.job.JobTesting.scoreSpec;
import static org.junit.jupiter.api.Assertions.*;

import attnspark.udf.LocalSpark;
import attnspark.udf.ModelSource;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * score with the real stories260K given as a plain directory, a file:// URI and a .tar.gz: the
 * executor fetches the last two into its model cache (spark.attnspark.model-cache) and the
 * scores are the same as from the directory itself.
 */
class ModelFromAnyFilesystemJobTest {
    static SparkSession spark;
    static Path model;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        model = JobTesting.stories260k();
        spark = JobTesting.realModelSpark(LocalSpark.builder("model-fs-test")
                .config(ModelSource.CACHE_DIR_KEY, tmp.resolve("model-cache").toString()));
    }

    @AfterAll
    static void stop() {
        JobTesting.stopRealModelSpark(spark);
    }

    static Map<String, Double> score(Path in, String modelArg, String name) {
        String out = tmp.resolve(name).toString();
        JobSpec spec = scoreSpec(in.toString(), out, modelArg);
        JobSummary sum = JobRunner.run(spark, spec);
        assertEquals(0, sum.errors(), name);
        Map<String, Double> nll = new TreeMap<>();
        for (Row r : JobRunner.readOutput(spark, spec).collectAsList()) {
            nll.put(r.getString(0), r.getDouble(2));
        }
        return nll;
    }

    static Path tarGz(Path dir, Path out) throws IOException {
        try (OutputStream o = Files.newOutputStream(out);
                TarArchiveOutputStream tar = new TarArchiveOutputStream(new GZIPOutputStream(o));
                Stream<Path> files = Files.walk(dir)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                TarArchiveEntry e = new TarArchiveEntry("stories260k/" + dir.relativize(f));
                e.setSize(Files.size(f));
                tar.putArchiveEntry(e);
                Files.copy(f, tar);
                tar.closeArchiveEntry();
            }
        }
        return out;
    }

    /**
     * The copies are byte-identical (ModelSourceTest); separate replicas' nll still differ in the
     * last float bits between runs (seen: 7e-7 on 11.77), so compare to 1e-5 relative.
     */
    static void assertSameScores(Map<String, Double> expected, Map<String, Double> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        for (String id : expected.keySet()) {
            assertEquals(expected.get(id), actual.get(id), 1e-5 * Math.abs(expected.get(id)), id);
        }
    }

    @Test
    void fileUriAndTarGzScoreLikeTheDirectory() throws Exception {
        Path in = tmp.resolve("docs.jsonl");
        Files.writeString(
                in,
                String.join(
                                "\n",
                                "{\"id\":\"a\",\"text\":\"Once upon a time there was a little cat.\"}",
                                "{\"id\":\"b\",\"text\":\"The dog ran to the park and played all day.\"}",
                                "{\"id\":\"c\",\"text\":\"Lily liked to sing.\"}")
                        + "\n");
        Map<String, Double> direct = score(in, model.toString(), "direct");
        assertEquals(List.of("a", "b", "c"), List.copyOf(direct.keySet()));
        assertSameScores(direct, score(in, model.toUri().toString(), "file-uri"));
        Path archive = tarGz(model, tmp.resolve("stories260k.tar.gz"));
        assertSameScores(direct, score(in, archive.toString(), "tar-gz"));
        try (Stream<Path> entries = Files.list(tmp.resolve("model-cache"))) {
            assertEquals(2, entries.filter(Files::isDirectory).count(), "one cache entry per source, nothing else");
        }
    }

    @Test
    void aMissingModelUriFailsBeforeAnyTaskNamingTheUri() throws Exception {
        Path in = tmp.resolve("one.jsonl");
        Files.writeString(in, "{\"id\":\"a\",\"text\":\"hello\"}\n");
        String uri = tmp.resolve("nowhere/model").toUri().toString();
        long jobsBefore = spark.sparkContext().statusTracker().getJobIdsForGroup(null).length;
        InputException e = assertThrows(
                InputException.class,
                () -> JobRunner.run(
                        spark, scoreSpec(in.toString(), tmp.resolve("never").toString(), uri)));
        assertEquals(
                "model not found: " + uri
                        + " does not exist (checked on the driver through Hadoop's FileSystem for 'file')",
                e.getMessage());
        assertEquals(
                jobsBefore, spark.sparkContext().statusTracker().getJobIdsForGroup(null).length, "no Spark job ran");
        assertFalse(Files.exists(tmp.resolve("never")));
    }
}
