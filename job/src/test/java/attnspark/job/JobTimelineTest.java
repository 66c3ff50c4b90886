package attnspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import attnspark.job.JobTimeline.Breakdown;
import attnspark.job.JobTimeline.TaskSpan;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Breakdown#of} against timelines worked out by hand. */
class JobTimelineTest {
    @Test
    void twoWavesOnTwoSlotsWithARetriedTask() {
        // job 1.000-21.500 s; tasks 3.0-13.0, 3.1-12.1, 12.1-20.0 and a failed attempt 13.0-21.0
        List<TaskSpan> tasks = List.of(
                new TaskSpan(3_000, 13_000, true),
                new TaskSpan(3_100, 12_100, true),
                new TaskSpan(12_100, 20_000, true),
                new TaskSpan(13_000, 21_000, false));
        Breakdown b = Breakdown.of(1_000, 21_500, tasks, 2);
        assertEquals(2.0, b.beforeSeconds(), 1e-12); // 1.0 -> 3.0
        assertEquals(18.0, b.stageSeconds(), 1e-12); // 3.0 -> 21.0
        assertEquals(0.5, b.afterSeconds(), 1e-12); // 21.0 -> 21.5
        assertEquals(4, b.tasks());
        assertEquals(1, b.failedTasks());
        // attempts of 10, 9, 7.9 and 8 s
        assertEquals(7.9, b.shortestTaskSeconds(), 1e-12);
        assertEquals(8.5, b.medianTaskSeconds(), 1e-12);
        assertEquals(10.0, b.longestTaskSeconds(), 1e-12);
        assertEquals(2, b.slots());
        assertEquals(2 * 18.0 - (10 + 9 + 7.9 + 8), b.idleSlotSeconds(), 1e-9); // 1.1
    }

    @Test
    void oneTaskPerSlotLeavesNothingIdleAndAnOddCountTakesTheMiddleTask() {
        List<TaskSpan> tasks =
                List.of(new TaskSpan(500, 4_500, true), new TaskSpan(500, 4_500, true), new TaskSpan(500, 2_500, true));
        Breakdown b = Breakdown.of(0, 5_000, tasks, 3);
        assertEquals(0.5, b.beforeSeconds(), 1e-12);
        assertEquals(4.0, b.stageSeconds(), 1e-12);
        assertEquals(0.5, b.afterSeconds(), 1e-12);
        assertEquals(4.0, b.medianTaskSeconds(), 1e-12);
        assertEquals(2.0, b.idleSlotSeconds(), 1e-12); // the short task's slot idles its last 2 s
        assertEquals(0, Breakdown.of(0, 5_000, tasks.subList(0, 2), 2).idleSlotSeconds(), 1e-12);
    }

    @Test
    void aRunWithoutModelTasksSpentAllItsSecondsBeforeTheStage() {
        Breakdown b = Breakdown.of(1_000, 1_750, List.of(), 2);
        assertEquals(0.75, b.beforeSeconds(), 1e-12);
        assertEquals(0, b.stageSeconds());
        assertEquals(0, b.afterSeconds());
        assertEquals(0, b.tasks());
        assertEquals(0, b.idleSlotSeconds());
    }
}
