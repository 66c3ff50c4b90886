package attnspark.job;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TaskSlotsTest {
    static SparkSession spark;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        spark = JobTesting.localSpark("task-slots-test"); // local[2]
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    @Test
    void aSmallFileReadAsOneSplitIsSpreadOverEverySlotWithoutLosingRows() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 1000; i++)
            sb.append("{\"id\":\"r")
                    .append(i)
                    .append("\",\"text\":\"t")
                    .append(i)
                    .append("\"}\n");
        Path in = tmp.resolve("small.jsonl");
        Files.writeString(in, sb);
        Dataset<Row> read = spark.read().json(in.toString());
        assertEquals(1, read.rdd().getNumPartitions(), "Spark reads a 20 KB file as one split");
        assertEquals(2, TaskSlots.slots(spark));
        Dataset<Row> spread = TaskSlots.fill(spark, read);
        assertEquals(4, spread.rdd().getNumPartitions());
        List<Integer> sizes = spread.javaRDD()
                .mapPartitions(it -> {
                    int n = 0;
                    while (it.hasNext()) {
                        it.next();
                        n++;
                    }
                    return List.of(n).iterator();
                })
                .collect();
        for (int n : sizes) assertEquals(250, n, 20, "round-robin gives even partitions: " + sizes);
        Set<String> ids =
                new HashSet<>(spread.select("id").as(Encoders.STRING()).collectAsList());
        assertEquals(1000, ids.size(), "every row once");
    }

    @Test
    void aFileSplitForTheSlotsNeedsNoShuffleAndKeepsEveryRowInOrder() throws Exception {
        StringBuilder sb = new StringBuilder();
        int rows = 6000; // ~0.5 MB
        for (int i = 0; i < rows; i++)
            sb.append("{\"id\":\"r")
                    .append(i)
                    .append("\",\"text\":\"")
                    .append("word ".repeat(10 + i % 7))
                    .append("\"}\n");
        Path in = tmp.resolve("medium.jsonl");
        Files.writeString(in, sb);
        assertEquals(1, spark.read().json(in.toString()).rdd().getNumPartitions(), "one split by default");
        TaskSlots.splitFilesForSlots(spark);
        try {
            Dataset<Row> read = spark.read().json(in.toString());
            int parts = read.rdd().getNumPartitions();
            assertTrue(parts >= 4 && parts <= 5, "2 x 2 slots (and a remainder): " + parts);
            assertSame(read, TaskSlots.fill(spark, read), "enough partitions: no shuffle");
            // even splits: a short last split leaves a slot idle at the end of the stage
            List<Integer> sizes = read.toJavaRDD()
                    .mapPartitions(it -> {
                        int n = 0;
                        for (; it.hasNext(); it.next()) n++;
                        return List.of(n).iterator();
                    })
                    .collect();
            int least = sizes.stream().min(Integer::compare).orElseThrow();
            int most = sizes.stream().max(Integer::compare).orElseThrow();
            assertTrue(most - least <= rows / 100, "rows per split differ by at most 1 %: " + sizes);
            List<String> ids = read.select("id").as(Encoders.STRING()).collectAsList();
            assertEquals(rows, ids.size());
            for (int i = 0; i < rows; i++) assertEquals("r" + i, ids.get(i), "input order");
        } finally {
            spark.conf().unset("spark.sql.files.minPartitionNum");
            spark.conf().unset("spark.sql.files.openCostInBytes");
        }
    }

    @Test
    void splitSettingsTheUserGaveAreKept() {
        spark.conf().set("spark.sql.files.minPartitionNum", "7");
        try {
            TaskSlots.splitFilesForSlots(spark);
            assertEquals("7", spark.conf().get("spark.sql.files.minPartitionNum"));
            assertEquals(Long.toString(TaskSlots.OPEN_COST_BYTES), spark.conf().get("spark.sql.files.openCostInBytes"));
        } finally {
            spark.conf().unset("spark.sql.files.minPartitionNum");
            spark.conf().unset("spark.sql.files.openCostInBytes");
        }
    }

    @Test
    void inputWithAPartitionPerSlotIsLeftAlone() {
        Dataset<Row> four = spark.range(100).toDF().repartition(4);
        assertSame(four, TaskSlots.fill(spark, four));
    }
}
