package attnspark.job;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.job.JobSpec.Command;
import attnspark.udf.DocPartitionFunction;
import attnspark.udf.FakeModels;
import attnspark.udf.LocalSpark;
import attnspark.udf.ModelReplicas;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 100,000 rows streamed through the embed job in a child JVM with a 512 MiB heap: the job
 * finishes with every row written once, and the heap in use after a full GC, sampled every
 * 10,000 rows, stays flat (no per-row state kept). The model is {@link FakeModels}: the point is
 * the Spark plumbing (reading, chunking, writing), which is what would grow with the input.
 */
class ScaleTest {
    static final int ROWS = 100_000;
    static final int SAMPLE_EVERY = 10_000;

    @TempDir
    Path tmp;

    /** A seeded corpus of short texts (5-20 words), written line by line. */
    static void writeCorpus(Path file, int rows, long seed) throws Exception {
        String[] words = "the a cat dog sat on mat ran to park and played all day little girl boy house tree water sun"
                .split(" ");
        Random rnd = new Random(seed);
        try (BufferedWriter w = Files.newBufferedWriter(file)) {
            for (int i = 0; i < rows; i++) {
                StringBuilder t = new StringBuilder();
                for (int k = 5 + rnd.nextInt(16); k > 0; k--) {
                    t.append(words[rnd.nextInt(words.length)]).append(k > 1 ? " " : ".");
                }
                w.write("{\"id\":\"d" + i + "\",\"text\":\"" + t + "\"}\n");
            }
        }
    }

    @Test
    void hundredThousandRowsInA512MiBHeap() throws Exception {
        Path in = tmp.resolve("corpus.jsonl");
        writeCorpus(in, ROWS, 42);
        Path out = tmp.resolve("out");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx512m");
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-") || a.startsWith("-Djdk.") || a.startsWith("-Dio.netty")) {
                cmd.add(a); // the Java 17 flags Spark needs, as this test JVM has them
            }
        }
        cmd.addAll(List.of(
                "-cp", System.getProperty("java.class.path"), Child.class.getName(), in.toString(), out.toString()));
        Path log = tmp.resolve("child.log");
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        assertTrue(p.waitFor(10, TimeUnit.MINUTES), "child JVM still running after 10 minutes");
        List<String> lines = Files.readAllLines(log);
        String tail = String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        assertEquals(0, p.exitValue(), "child JVM failed:\n" + tail);

        JsonNode m = new ObjectMapper()
                .readTree(out.resolve("_attnspark_metrics.json").toFile());
        assertEquals(ROWS, m.get("rows").asLong(), tail);
        assertEquals(0, m.get("errors").asLong(), tail);
        String distinct = lines.stream()
                .filter(l -> l.startsWith("distinct_ids="))
                .findFirst()
                .orElseThrow(() -> new AssertionError(tail));
        assertEquals("distinct_ids=" + ROWS, distinct);

        List<Double> heapMb = new ArrayList<>();
        for (String l : lines) {
            if (l.startsWith("heap_after_gc_mb=")) {
                heapMb.add(Double.parseDouble(l.substring("heap_after_gc_mb=".length())));
            }
        }
        assertTrue(heapMb.size() >= ROWS / SAMPLE_EVERY - 1, "heap samples: " + heapMb + "\n" + tail);
        // flat: the last samples are within 32 MiB of the early ones (the corpus output alone is ~40 MB of rows)
        double early = Math.min(heapMb.get(1), heapMb.get(2));
        double late = Math.max(heapMb.get(heapMb.size() - 1), heapMb.get(heapMb.size() - 2));
        assertTrue(late - early < 32, "heap after GC grew from " + early + " to " + late + " MiB: " + heapMb);
    }

    /** The child JVM: embed job on local[2] with the fake model, sampling the heap as rows go by. */
    public static final class Child {
        public static void main(String[] args) {
            AtomicLong seen = new AtomicLong();
            ModelReplicas.setFactoryForTests(FakeModels.watchingEmbeds(texts -> {
                if (Thread.currentThread().getName().equals(DocPartitionFunction.PRELOAD_THREAD)) {
                    return; // the local-mode warm-up's own texts, before the job's rows
                }
                long before = seen.getAndAdd(texts.size());
                if ((before + texts.size()) / SAMPLE_EVERY > before / SAMPLE_EVERY) {
                    System.gc();
                    Runtime rt = Runtime.getRuntime();
                    System.out.println("heap_after_gc_mb=" + (rt.totalMemory() - rt.freeMemory()) / 1048576.0);
                }
            }));
            SparkSession spark = LocalSpark.builder("scale-test")
                    // several input partitions, so rows stream through more than one task
                    .config("spark.sql.files.maxPartitionBytes", String.valueOf(1 << 20))
                    .getOrCreate();
            try {
                JobSpec spec = JobSpec.parse(Command.EMBED, "--input", args[0], "--output", args[1]);
                JobRunner.run(spark, spec);
                System.out.println("distinct_ids="
                        + JobRunner.readOutput(spark, spec)
                                .select("id")
                                .distinct()
                                .count());
            } finally {
                spark.stop();
            }
        }
    }
}
