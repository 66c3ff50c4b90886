package attnspark.testutil;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/** ../shared (read-only, never copied into the repo): CI has it beside the clone. */
public final class Shared {
    private Shared() {
    }

    public static Path dir() {
        Path p = Path.of(System.getProperty("attnspark.shared", "../../shared"));
        Assumptions.assumeTrue(Files.isDirectory(p), "shared dir not found at " + p.toAbsolutePath());
        return p;
    }

    public static Path stories260k() {
        return dir().resolve("models").resolve("stories260k");
    }
}
