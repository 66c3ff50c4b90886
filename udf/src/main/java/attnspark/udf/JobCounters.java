package attnspark.udf;

import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;

/**
 * A job's running counts, kept in Spark accumulators that the partition functions add to after
 * each chunk: the driver reads them for progress lines (executors' heartbeats carry the running
 * tasks' values) and for the metrics file. {@code paddedTokens} is what the forward batches
 * occupied in the padded attention layout (batch size x longest sequence, as planned by
 * {@link attnspark.models.TokenBudgetBatches}), so tokens / paddedTokens is the padding
 * efficiency. {@code modelLoads} holds one "executorId\tseconds" per replica an executor loaded
 * (fetching a remote model included).
 */
public final class JobCounters implements Serializable {
    private static final long serialVersionUID = 1L;
    /** Accumulator ids this JVM already reported its model load to (once per job and JVM). */
    private static final Set<Long> LOAD_REPORTED = ConcurrentHashMap.newKeySet();

    public final LongAccumulator rows;
    public final LongAccumulator errors;
    public final LongAccumulator tokens;
    public final LongAccumulator paddedTokens;
    public final CollectionAccumulator<String> modelLoads;

    private JobCounters(SparkContext sc, String prefix) {
        rows = sc.longAccumulator(prefix + ".rows");
        errors = sc.longAccumulator(prefix + ".errors");
        tokens = sc.longAccumulator(prefix + ".tokens");
        paddedTokens = sc.longAccumulator(prefix + ".padded_tokens");
        modelLoads = sc.collectionAccumulator(prefix + ".model_loads");
    }

    /** New counters on the driver, named {@code prefix.rows} etc. in the Spark UI. */
    public static JobCounters register(SparkContext sc, String prefix) {
        return new JobCounters(sc, prefix);
    }

    /** Called in the task after a model call that may have loaded this JVM's replica. */
    void reportModelLoad(double seconds) {
        if (seconds >= 0 && LOAD_REPORTED.add(modelLoads.id())) {
            SparkEnv env = SparkEnv.get();
            modelLoads.add((env == null ? "driver" : env.executorId()) + "\t" + seconds);
        }
    }

    /** Adds one chunk: its rows, error rows, tokens and padded tokens of the successful rows. */
    void add(long chunkRows, long chunkErrors, long chunkTokens, long chunkPadded) {
        rows.add(chunkRows);
        errors.add(chunkErrors);
        tokens.add(chunkTokens);
        paddedTokens.add(chunkPadded);
    }

    /** executorId -> seconds, from {@link #modelLoads} on the driver (the longest per executor). */
    public Map<String, Double> modelLoadSeconds() {
        Map<String, Double> m = new TreeMap<>();
        List<String> loads = modelLoads.value();
        for (String s : loads) {
            String[] kv = s.split("\t");
            m.merge(kv[0], Double.parseDouble(kv[1]), Math::max);
        }
        return m;
    }
}
