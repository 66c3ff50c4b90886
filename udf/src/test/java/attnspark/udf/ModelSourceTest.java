package attnspark.udf;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --model from a Hadoop-FS URI or an archive: fetched once into a local cache, never half. */
class ModelSourceTest {
    static final Configuration HADOOP = new Configuration();

    @TempDir
    Path tmp;

    /** A model-like directory: a few files (one nested), random bytes. */
    Path model() throws IOException {
        Path m = tmp.resolve("src/tiny-model");
        Files.createDirectories(m.resolve("1_Pooling"));
        Random rnd = new Random(3);
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "1_Pooling/config.json")) {
            byte[] b = new byte[f.equals("model.safetensors") ? 300_000 : 1000];
            rnd.nextBytes(b);
            Files.write(m.resolve(f), b);
        }
        return m;
    }

    /** relative path -> bytes of every regular file under dir. */
    static Map<String, String> contents(Path dir) throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                m.put(dir.relativize(p).toString(), HexFormat.of().formatHex(Files.readAllBytes(p)));
            }
        }
        return m;
    }

    static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    Path tarGz(Path model, String top) throws IOException {
        Path out = tmp.resolve("src/" + model.getFileName() + ".tar.gz");
        try (OutputStream o = Files.newOutputStream(out);
                TarArchiveOutputStream tar = new TarArchiveOutputStream(new GZIPOutputStream(o))) {
            for (Map.Entry<String, String> e : contents(model).entrySet()) {
                byte[] b = Files.readAllBytes(model.resolve(e.getKey()));
                TarArchiveEntry te = new TarArchiveEntry(top + e.getKey());
                te.setSize(b.length);
                tar.putArchiveEntry(te);
                tar.write(b);
                tar.closeArchiveEntry();
            }
        }
        return out;
    }

    Path zip(Path model) throws IOException {
        Path out = tmp.resolve("src/" + model.getFileName() + ".zip");
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(out))) {
            for (String rel : contents(model).keySet()) {
                z.putNextEntry(new ZipEntry(rel));
                z.write(Files.readAllBytes(model.resolve(rel)));
                z.closeEntry();
            }
        }
        return out;
    }

    @Test
    void fileUriIsCopiedOnceAndAgainWhenTheModelChanges() throws Exception {
        Path m = model();
        Path cache = tmp.resolve("cache");
        Path got = ModelSource.fetch(m.toUri().toString(), HADOOP, cache);
        assertTrue(got.startsWith(cache), got.toString());
        assertEquals(contents(m), contents(got));
        FileTime copiedAt = Files.getLastModifiedTime(got.resolve("model.safetensors"));
        Thread.sleep(20);
        assertEquals(got, ModelSource.fetch(m.toUri().toString(), HADOOP, cache), "same files: same cache entry");
        assertEquals(copiedAt, Files.getLastModifiedTime(got.resolve("model.safetensors")), "not copied again");

        Files.write(m.resolve("config.json"), "{\"changed\": true}".getBytes());
        Path again = ModelSource.fetch(m.toUri().toString(), HADOOP, cache);
        assertNotEquals(got, again, "a changed file (size, mtime) is a new cache entry");
        assertEquals(contents(m), contents(again));
    }

    @Test
    void tarGzWithATopDirectoryAndZipWithBareFilesUnpackToTheModel() throws Exception {
        Path m = model();
        Path cache = tmp.resolve("cache");
        Path fromTar = ModelSource.fetch(tarGz(m, "tiny-model/").toString(), HADOOP, cache);
        assertEquals(contents(m), contents(fromTar));
        Path fromZip = ModelSource.fetch(zip(m).toUri().toString(), HADOOP, cache);
        assertEquals(contents(m), contents(fromZip));
        assertNotEquals(fromTar, fromZip);
    }

    @Test
    void concurrentFetchesWaitForOneCopy() throws Exception {
        Path m = model();
        Path cache = tmp.resolve("cache");
        String uri = tarGz(m, "").toUri().toString();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<Path>> fs = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            fs.add(pool.submit(() -> {
                Path p = ModelSource.fetch(uri, HADOOP, cache);
                assertEquals(contents(m), contents(p), "a fetch returned before the copy was complete");
                return p;
            }));
        }
        Path first = fs.get(0).get();
        for (Future<Path> f : fs) {
            assertEquals(first, f.get());
        }
        pool.shutdown();
        // one entry plus its lock file: one copy, no partial directory left
        assertEquals(List.of(first.getFileName().toString(), first.getFileName() + ".lock"), names(cache));
    }

    @Test
    void aLeftoverPartialCopyIsNeverUsedAndIsRemoved() throws Exception {
        Path m = model();
        String uri = m.toUri().toString();
        String entry = ModelSource.fetch(uri, HADOOP, tmp.resolve("scratch"))
                .getFileName()
                .toString();
        // what a copier killed half-way leaves: the entry's partial directory with a cut file
        Path cache = tmp.resolve("cache");
        Path partial = cache.resolve(entry + ".partial-4242-1");
        Files.createDirectories(partial);
        Files.write(partial.resolve("config.json"), new byte[10]);
        Path got = ModelSource.fetch(uri, HADOOP, cache);
        assertEquals(cache.resolve(entry), got);
        assertEquals(contents(m), contents(got));
        assertFalse(Files.exists(partial), "the stale partial copy is removed");
    }

    @Test
    void aTruncatedArchiveFailsAndLeavesNoCacheEntry() throws Exception {
        Path archive = tarGz(model(), "");
        byte[] all = Files.readAllBytes(archive);
        Path cut = tmp.resolve("src/cut.tar.gz");
        Files.write(cut, Arrays.copyOf(all, all.length / 2));
        Path cache = tmp.resolve("cache");
        RuntimeException e =
                assertThrows(RuntimeException.class, () -> ModelSource.fetch(cut.toString(), HADOOP, cache));
        assertTrue(e.getMessage().contains(cut.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("partial copy is never used"), e.getMessage());
        assertTrue(names(cache).stream().allMatch(n -> n.endsWith(".lock")), "left behind: " + names(cache));
    }

    @Test
    void anArchiveEntryOutsideTheModelDirectoryIsRefused() throws Exception {
        Path evil = tmp.resolve("src/evil.zip");
        Files.createDirectories(evil.getParent());
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(evil))) {
            z.putNextEntry(new ZipEntry("../../escaped.txt"));
            z.write(1);
            z.closeEntry();
        }
        Path cache = tmp.resolve("cache");
        RuntimeException e =
                assertThrows(RuntimeException.class, () -> ModelSource.fetch(evil.toString(), HADOOP, cache));
        assertTrue(e.getMessage().contains("points outside the model directory"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("escaped.txt")));
    }

    @Test
    void aMissingUriIsNamedOnTheDriverAndOnTheExecutor() {
        String uri = tmp.resolve("no/such/model").toUri().toString();
        RuntimeException driver = assertThrows(
                ModelSource.ModelNotFoundException.class,
                () -> ModelSource.check(uri, new SparkConf(false), HADOOP, false));
        assertTrue(driver.getMessage().startsWith("model not found: " + uri + " does not exist"), driver.getMessage());
        RuntimeException executor = assertThrows(
                ModelSource.ModelNotFoundException.class, () -> ModelSource.fetch(uri, HADOOP, tmp.resolve("cache")));
        assertTrue(executor.getMessage().contains(uri), executor.getMessage());
        RuntimeException archive = assertThrows(
                ModelSource.ModelNotFoundException.class,
                () -> ModelSource.check(tmp.resolve("gone.tar.gz").toString(), new SparkConf(false), HADOOP, false));
        assertTrue(archive.getMessage().contains("gone.tar.gz"), archive.getMessage());
    }

    @Test
    void archivesShippedWithSparkAreFoundByName() {
        SparkConf conf =
                new SparkConf(false).set("spark.archives", "hdfs:///models/minilm.tar.gz#minilm,file:///x/other.zip");
        assertEquals("minilm", ModelSource.shippedArchive("minilm", conf));
        assertEquals("minilm", ModelSource.shippedArchive("minilm.tar.gz", conf));
        assertEquals("other.zip", ModelSource.shippedArchive("other.zip", conf));
        assertNull(ModelSource.shippedArchive("hdfs:///models/minilm.tar.gz", conf));
        assertNull(ModelSource.shippedArchive("nothing", conf));
    }
}
