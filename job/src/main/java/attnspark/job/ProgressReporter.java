package attnspark.job;

import attnspark.udf.JobCounters;
import java.io.PrintStream;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.spark.SparkContext;
import org.apache.spark.Success$;
import org.apache.spark.TaskEndReason;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.StageInfo;
import scala.Tuple4;
import scala.collection.JavaConverters;
import scala.collection.Seq;

/**
 * Prints {@code attnspark embed: progress rows=D/T (P%) tasks=d/t tokens/s=R elapsed=H:MM:SS eta=H:MM:SS}
 * on stderr every interval while the job runs (Spark's own console progress bar is off and its
 * logs are at WARN). Rows and tokens come from the job's {@link JobCounters}: finished tasks'
 * values from task-end events, running tasks' from the accumulator values executors send with
 * every heartbeat ({@code spark.executor.heartbeatInterval}, 10 s by default), so a long task
 * shows progress before it ends.
 */
final class ProgressReporter extends SparkListener implements AutoCloseable {
    /** Spark job group of the jobs whose tasks count (the output write). */
    static final String JOB_GROUP = "attnspark-run";

    private final SparkContext sc;
    private final JobCounters counters;
    private final String command;
    private final long totalRows;
    private final PrintStream err;
    private final long start = System.nanoTime();
    private final ScheduledExecutorService timer;

    // guarded by this
    private final Set<Integer> stages = new HashSet<>();
    private final Map<Long, long[]> running = new HashMap<>(); // task id -> {rows, tokens} so far
    private long doneRows, doneTokens;
    private int tasksTotal, tasksDone;

    private ProgressReporter(
            SparkContext sc, JobCounters counters, String command, long totalRows, double seconds, PrintStream err) {
        this.sc = sc;
        this.counters = counters;
        this.command = command;
        this.totalRows = totalRows;
        this.err = err;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "attnspark-progress");
            t.setDaemon(true);
            return t;
        });
        long ms = Math.max(1, Math.round(seconds * 1000));
        timer.scheduleAtFixedRate(() -> err.println(line()), ms, ms, TimeUnit.MILLISECONDS);
    }

    /** Starts listening and printing every {@code seconds}; {@code totalRows} < 0 when unknown. */
    static ProgressReporter start(
            SparkContext sc, JobCounters counters, String command, long totalRows, double seconds, PrintStream err) {
        ProgressReporter p = new ProgressReporter(sc, counters, command, totalRows, seconds, err);
        sc.addSparkListener(p);
        return p;
    }

    @Override
    public synchronized void onJobStart(SparkListenerJobStart e) {
        if (!JOB_GROUP.equals(e.properties() == null ? null : e.properties().getProperty("spark.jobGroup.id"))) {
            return;
        }
        for (StageInfo s : JavaConverters.seqAsJavaList(e.stageInfos())) {
            stages.add(s.stageId());
        }
    }

    /**
     * Tasks count once their stage is submitted: a job's stage list also names stages it skips
     * (a shuffle an earlier job of the write already ran, under adaptive execution), whose tasks
     * never run, so counting them there left the last line at e.g. tasks=7/10.
     */
    @Override
    public synchronized void onStageSubmitted(SparkListenerStageSubmitted e) {
        if (stages.contains(e.stageInfo().stageId())) {
            tasksTotal += e.stageInfo().numTasks();
        }
    }

    @Override
    public synchronized void onTaskEnd(SparkListenerTaskEnd e) {
        if (!stages.contains(e.stageId())) {
            return;
        }
        running.remove(e.taskInfo().taskId());
        TaskEndReason reason = e.reason();
        if (reason == Success$.MODULE$) {
            tasksDone++;
            long[] v = values(e.taskInfo().accumulables());
            doneRows += v[0];
            doneTokens += v[1];
        }
    }

    @Override
    public synchronized void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate e) {
        for (Tuple4<Object, Object, Object, Seq<AccumulableInfo>> u : JavaConverters.seqAsJavaList(e.accumUpdates())) {
            if (stages.contains((Integer) u._2())) {
                running.put((Long) u._1(), values(u._4()));
            }
        }
    }

    /** {rows, tokens} among a task's accumulator updates. */
    private long[] values(Seq<AccumulableInfo> infos) {
        long[] v = new long[2];
        for (AccumulableInfo a : JavaConverters.seqAsJavaList(infos)) {
            if (a.update().isDefined() && a.update().get() instanceof Long n) {
                if (a.id() == counters.rows.id()) {
                    v[0] = n;
                } else if (a.id() == counters.tokens.id()) {
                    v[1] = n;
                }
            }
        }
        return v;
    }

    /** The progress line as of now. */
    synchronized String line() {
        long rows = doneRows, tokens = doneTokens;
        for (long[] v : running.values()) {
            rows += v[0];
            tokens += v[1];
        }
        if (totalRows >= 0) {
            rows = Math.min(rows, totalRows);
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        StringBuilder sb = new StringBuilder("attnspark ")
                .append(command)
                .append(": progress rows=")
                .append(rows);
        if (totalRows >= 0) {
            sb.append('/')
                    .append(totalRows)
                    .append(String.format(Locale.ROOT, " (%.1f%%)", totalRows == 0 ? 100.0 : 100.0 * rows / totalRows));
        }
        sb.append(" tasks=").append(tasksDone).append('/').append(tasksTotal);
        sb.append(String.format(Locale.ROOT, " tokens/s=%.0f rows/s=%.1f", tokens / elapsed, rows / elapsed));
        sb.append(" elapsed=").append(clock(elapsed)).append(" eta=");
        sb.append(totalRows >= 0 && rows > 0 ? clock(elapsed * (totalRows - rows) / rows) : "?");
        return sb.toString();
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }

    @Override
    public void close() {
        timer.shutdownNow();
        sc.removeSparkListener(this);
    }
}
