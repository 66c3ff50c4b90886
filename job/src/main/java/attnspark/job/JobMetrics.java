package attnspark.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * What a run did, written as {@code _attnspark_metrics.json} into the output directory (Spark's
 * readers skip names starting with '_'). rows/errors/tokens are the committed output's (as in
 * the summary line); padded tokens what the forward batches occupied in the padded attention
 * layout, so padding_efficiency = tokens / padded_tokens; model_load_seconds per executor id
 * ("driver" in local mode), fetching a remote model included; timeline where the seconds went
 * ({@link JobTimeline.Breakdown}; null when Spark's task events did not arrive in time).
 */
record JobMetrics(
        String command,
        long rows,
        long errors,
        long tokens,
        long paddedTokens,
        double seconds,
        Map<String, Double> modelLoadSeconds,
        JobTimeline.Breakdown timeline,
        String output) {
    static final String FILE_NAME = "_attnspark_metrics.json";

    Map<String, Object> asMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("command", command);
        m.put("rows", rows);
        m.put("errors", errors);
        m.put("tokens", tokens);
        m.put("padded_tokens", paddedTokens);
        m.put("padding_efficiency", paddedTokens > 0 ? (double) tokens / paddedTokens : null);
        m.put("seconds", seconds);
        m.put("tokens_per_second", seconds > 0 ? tokens / seconds : null);
        m.put("rows_per_second", seconds > 0 ? rows / seconds : null);
        m.put("model_load_seconds", modelLoadSeconds);
        m.put("timeline", timeline == null ? null : timeline.asMap());
        m.put("output", output);
        return m;
    }

    /** Writes {@code dir/_attnspark_metrics.json}, replacing an older one. */
    void write(Configuration hadoopConf, String dir) {
        Path file = new Path(dir, FILE_NAME);
        try {
            FileSystem fs = file.getFileSystem(hadoopConf);
            try (FSDataOutputStream out = fs.create(file, true)) {
                out.write(new ObjectMapper()
                        .enable(SerializationFeature.INDENT_OUTPUT)
                        .writeValueAsBytes(asMap()));
                out.write('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + file + ": " + e.getMessage(), e);
        }
    }
}
