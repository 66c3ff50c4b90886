package attnspark.job;

import static attnspark.job.JobTesting.embedSpec;
import static attnspark.job.JobTesting.scoreSpec;
import static org.junit.jupiter.api.Assertions.*;

import attnspark.api.ModelOptions;
import attnspark.udf.EmbedPartitionFunction;
import attnspark.udf.OutputSchemas;
import attnspark.udf.ScorePartitionFunction;
import attnspark.udf.ScoreText;
import attnspark.udf.UdfSettings;
import java.nio.file.Files;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** The UDFs' spark.attnspark.* settings go through the job's option table: same parsing, checks and messages as the CLI. */
class UdfSettingsTest {
    final UdfSettings settings = UdfSettings.find();

    @Test
    void theJobJarProvidesTheImplementation() {
        assertInstanceOf(JobUdfSettings.class, settings);
    }

    @Test
    void sameOptionsAsTheCommandLine() {
        Map<String, String> conf = Map.of(
                "spark.attnspark.max-length",
                "77",
                "spark.attnspark.pooling",
                "cls",
                "spark.attnspark.attn",
                "eager",
                "spark.master",
                "local[1]",
                "spark.attnspark.window",
                "32"); // a score option: ignored by embed, as in the CLI
        EmbedPartitionFunction embed = settings.embedFunction(conf);
        ModelOptions cli = embedSpec("i", "o", "--max-length", "77", "--pooling", "cls", "--attn", "eager")
                .model();
        assertEquals(cli, embed.options());
        assertEquals(OutputSchemas.embed(), embed.outputSchema());

        ScorePartitionFunction score = settings.scoreFunction(Map.of(
                "spark.attnspark.model",
                "/m",
                "spark.attnspark.window",
                "32",
                "spark.attnspark.stride",
                "16",
                "spark.attnspark.per-token",
                "true"));
        assertEquals(
                scoreSpec("i", "o", "/m", "--window", "32", "--stride", "16").model(), score.options());
        assertEquals(OutputSchemas.score(true), score.outputSchema());
    }

    @Test
    void badKeysAndValuesFailAsInTheCli() {
        String unknown = assertThrows(
                        IllegalArgumentException.class,
                        () -> settings.embedFunction(Map.of("spark.attnspark.max-len", "3")))
                .getMessage();
        assertEquals(
                "attnspark embed UDF: unknown setting spark.attnspark.max-len (from the SparkSession conf);"
                        + " the nearest key is spark.attnspark.max-length",
                unknown);
        String bad = assertThrows(
                        IllegalArgumentException.class,
                        () -> settings.scoreFunction(
                                Map.of("spark.attnspark.model", "/m", "spark.attnspark.window", "32")))
                .getMessage();
        assertTrue(bad.contains("spark.attnspark.window (from the SparkSession conf) needs --stride"), bad);
        String missing = assertThrows(IllegalArgumentException.class, () -> settings.scoreFunction(Map.of()))
                .getMessage();
        assertTrue(
                missing.contains("missing required option --model") && missing.contains("spark.attnspark.model"),
                missing);
    }

    @Test
    void readmePySparkLineHasTheScoreStructOfOutputSchemas() throws Exception {
        // PySpark's registerJavaFunction cannot infer a struct: the README spells ScoreText's type out
        String readme = Files.readString(ConfConsistencyTest.ROOT.resolve("README.md"));
        Matcher m = Pattern.compile(
                        "registerJavaFunction\\(\"score\", \"attnspark.udf.ScoreText\",\\s*\"(struct<[^\"]*>)\"\\)")
                .matcher(readme);
        assertTrue(
                m.find(),
                "README has no spark.udf.registerJavaFunction(\"score\", \"attnspark.udf.ScoreText\", \"struct<...>\")");
        StructType type = new ScoreText(settings.scoreFunction(Map.of("spark.attnspark.model", "/m"))).returnType();
        assertEquals(
                type.simpleString(),
                m.group(1),
                "README's PySpark score type: update it to OutputSchemas.score less id");
    }
}
