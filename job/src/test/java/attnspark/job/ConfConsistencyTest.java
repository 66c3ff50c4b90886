package attnspark.job;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * conf/java17-opens.txt is the source of truth for the Java 17 flags (scripts/attnspark reads
 * it); the root pom's spark.java17.opens (Surefire argLine) and the conf/*.conf files must
 * carry the same flags.
 */
class ConfConsistencyTest {
    static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();

    static List<String> opens() throws Exception {
        return Files.readAllLines(ROOT.resolve("conf/java17-opens.txt")).stream()
                .map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#"))
                .toList();
    }

    @Test
    void surefireArgLineHasEveryFlag() throws Exception {
        List<String> jvm = ManagementFactory.getRuntimeMXBean().getInputArguments();
        for (String flag : opens()) {
            assertTrue(jvm.contains(flag), "test JVM (root pom spark.java17.opens) lacks " + flag);
        }
        for (String a : jvm) {
            if (a.startsWith("--add-opens")) {
                assertTrue(opens().contains(a), a + " is in the pom but not in conf/java17-opens.txt");
            }
        }
    }

    @Test
    void sparkConfsHaveEveryFlag() throws Exception {
        for (String conf : List.of("local.conf", "cluster.conf", "gpu-rapids.conf")) {
            List<String> lines = Files.readAllLines(ROOT.resolve("conf").resolve(conf));
            for (String key : List.of("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions")) {
                String line = lines.stream()
                        .filter(l -> l.startsWith(key))
                        .findFirst()
                        .orElseThrow(() -> new AssertionError(conf + " has no " + key));
                List<String> flags =
                        List.of(line.substring(key.length()).strip().split("\\s+"));
                assertEquals(opens(), flags, conf + " " + key);
            }
        }
    }

    /**
     * Threads follow spark.task.cpus inside each task (attnspark.udf.TaskThreads), so a conf must
     * not pin OMP_NUM_THREADS (a 1-core task would still get OpenMP's count), and executor cores
     * must be a whole number of tasks.
     */
    @Test
    void threadsComeFromTaskCpusOnly() throws Exception {
        for (String conf : List.of("local.conf", "cluster.conf", "gpu-rapids.conf")) {
            List<String> lines = Files.readAllLines(ROOT.resolve("conf").resolve(conf));
            for (String l : lines) {
                assertFalse(l.contains("OMP_NUM_THREADS") && !l.strip().startsWith("#"), conf + " sets " + l);
            }
            int taskCpus = intSetting(lines, "spark.task.cpus", 1);
            int executorCores = intSetting(lines, "spark.executor.cores", taskCpus);
            assertEquals(
                    0,
                    executorCores % taskCpus,
                    conf + ": spark.executor.cores " + executorCores + " is not a multiple of spark.task.cpus "
                            + taskCpus);
        }
    }

    private static int intSetting(List<String> lines, String key, int otherwise) {
        return lines.stream()
                .filter(l -> l.startsWith(key + " "))
                .map(l -> Integer.parseInt(l.substring(key.length()).strip()))
                .findFirst()
                .orElse(otherwise);
    }
}
