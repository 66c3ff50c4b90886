package attnspark.job;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import org.apache.spark.SparkContext;
import org.apache.spark.Success$;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.StageInfo;
import org.apache.spark.scheduler.TaskInfo;
import scala.collection.JavaConverters;

/**
 * Where a run's seconds went, from Spark's own task events: before the model stage's first task
 * (reading the input's schema, planning, code generation, scheduling), in the model stage (its
 * first task's launch to its last task's end: reading, tokenizing, the model, writing the rows)
 * and after it (the output's commit). The model stage is the result stage of the last job
 * started on the marking thread between {@link #mark} and {@link #finish} (the output write,
 * which pulls the rows through the model). Written to {@code _attnspark_metrics.json} as
 * {@code timeline}, printed by the CLI and by {@code bench}: a job slower than the engine in
 * process shows here whether it lost its time before the stage, in slower tasks, or in slots left
 * idle at the stage's end.
 */
final class JobTimeline extends SparkListener implements AutoCloseable {
    /** Local property that marks the jobs of one run's model stage. */
    static final String PROPERTY = "attnspark.timeline";

    /** How long {@link #finish} waits for the listener bus to deliver the stage's last task events. */
    private static final long DRAIN_MILLIS = 10_000;

    private final SparkContext sc;
    private final String mark = UUID.randomUUID().toString();

    // guarded by this
    private int modelStage = -1;
    private final List<TaskSpan> tasks = new ArrayList<>();

    private JobTimeline(SparkContext sc) {
        this.sc = sc;
    }

    /** Starts listening and marks the jobs this thread starts from now on as the model stage. */
    static JobTimeline mark(SparkContext sc) {
        JobTimeline t = new JobTimeline(sc);
        sc.addSparkListener(t);
        sc.setLocalProperty(PROPERTY, t.mark);
        return t;
    }

    @Override
    public synchronized void onJobStart(SparkListenerJobStart e) {
        if (e.properties() != null && mark.equals(e.properties().getProperty(PROPERTY))) {
            // The write's last job's result stage is where the rows go through the model into the
            // writer: DAGScheduler.createResultStage numbers it after the stages it depends on, and
            // with adaptive execution a --partitions shuffle runs first as a job of its own (its
            // input-reading tasks count as "before" the model stage, not in it).
            int result = -1;
            for (StageInfo s : JavaConverters.seqAsJavaList(e.stageInfos())) result = Math.max(result, s.stageId());
            modelStage = result;
            tasks.clear();
        }
    }

    @Override
    public synchronized void onTaskEnd(SparkListenerTaskEnd e) {
        if (e.stageId() == modelStage) {
            TaskInfo info = e.taskInfo();
            tasks.add(new TaskSpan(info.launchTime(), info.finishTime(), e.reason() == Success$.MODULE$));
        }
    }

    /**
     * The breakdown of a run that started at {@code startMillis} and whose write returned at
     * {@code endMillis} (wall clock, as Spark's task times), on {@code slots} concurrent tasks;
     * null when the listener bus did not deliver the stage's events in time (a busy driver).
     * Spark posts task events asynchronously: they are complete only once its listener bus has
     * drained ({@code LiveListenerBus.waitUntilEmpty}, Spark-internal but public to Java, and
     * what Spark's own tests wait on).
     */
    Breakdown finish(long startMillis, long endMillis, int slots) {
        sc.setLocalProperty(PROPERTY, null);
        try {
            sc.listenerBus().waitUntilEmpty(DRAIN_MILLIS);
        } catch (TimeoutException e) {
            return null;
        }
        synchronized (this) {
            return Breakdown.of(startMillis, endMillis, tasks, slots);
        }
    }

    @Override
    public void close() {
        sc.setLocalProperty(PROPERTY, null);
        sc.removeSparkListener(this);
    }

    /** One task attempt of the model stage: launch and finish (epoch ms), and whether it succeeded. */
    record TaskSpan(long launchMillis, long finishMillis, boolean succeeded) {
        double seconds() {
            return Math.max(0, finishMillis - launchMillis) / 1000.0;
        }
    }

    /**
     * A run's seconds split at its model stage's first launch and last finish; the stage's task
     * attempts (count, failed, shortest / median / longest seconds); and its idle slot-seconds:
     * slots x the stage's span less the attempts' summed seconds, the capacity the stage left
     * unused (mostly at its end, when the last tasks run alone; the job's last tasks then take up
     * the idle cores, see {@code TaskThreads.withIdleCores}, so not all of it is lost).
     */
    record Breakdown(
            double beforeSeconds,
            double stageSeconds,
            double afterSeconds,
            int tasks,
            int failedTasks,
            double shortestTaskSeconds,
            double medianTaskSeconds,
            double longestTaskSeconds,
            int slots,
            double idleSlotSeconds) {

        static Breakdown of(long startMillis, long endMillis, List<TaskSpan> attempts, int slots) {
            if (attempts.isEmpty()) {
                return new Breakdown((endMillis - startMillis) / 1000.0, 0, 0, 0, 0, 0, 0, 0, slots, 0);
            }
            long first = Long.MAX_VALUE, last = Long.MIN_VALUE;
            double[] seconds = new double[attempts.size()];
            double busy = 0;
            int failed = 0;
            for (int i = 0; i < seconds.length; i++) {
                TaskSpan t = attempts.get(i);
                first = Math.min(first, t.launchMillis());
                last = Math.max(last, t.finishMillis());
                seconds[i] = t.seconds();
                busy += seconds[i];
                if (!t.succeeded()) failed++;
            }
            Arrays.sort(seconds);
            int m = seconds.length / 2;
            double median = seconds.length % 2 == 1 ? seconds[m] : (seconds[m - 1] + seconds[m]) / 2;
            double stage = (last - first) / 1000.0;
            return new Breakdown(
                    Math.max(0, first - startMillis) / 1000.0,
                    stage,
                    Math.max(0, endMillis - last) / 1000.0,
                    seconds.length,
                    failed,
                    seconds[0],
                    median,
                    seconds[seconds.length - 1],
                    slots,
                    Math.max(0, slots * stage - busy));
        }

        /** The {@code timeline} object of {@code _attnspark_metrics.json}. */
        Map<String, Object> asMap() {
            Map<String, Object> taskSeconds = new LinkedHashMap<>();
            taskSeconds.put("shortest", shortestTaskSeconds);
            taskSeconds.put("median", medianTaskSeconds);
            taskSeconds.put("longest", longestTaskSeconds);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("before_model_stage_seconds", beforeSeconds);
            m.put("model_stage_seconds", stageSeconds);
            m.put("after_model_stage_seconds", afterSeconds);
            m.put("tasks", tasks);
            m.put("failed_tasks", failedTasks);
            m.put("task_seconds", taskSeconds);
            m.put("slots", slots);
            m.put("idle_slot_seconds", idleSlotSeconds);
            return m;
        }

        /** The CLI's line on stderr. */
        String line(String command) {
            return String.format(
                    Locale.ROOT,
                    "attnspark %s: timeline %.2f s before the model stage, %.2f s in it (%d tasks%s of %.2f / %.2f / %.2f s"
                            + " shortest / median / longest; %.2f of %d x %.2f slot-seconds idle), %.2f s after it",
                    command,
                    beforeSeconds,
                    stageSeconds,
                    tasks,
                    failedTasks > 0 ? ", " + failedTasks + " failed" : "",
                    shortestTaskSeconds,
                    medianTaskSeconds,
                    longestTaskSeconds,
                    idleSlotSeconds,
                    slots,
                    stageSeconds,
                    afterSeconds);
        }
    }
}
