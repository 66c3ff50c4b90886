package attnspark.attention.hub;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.api.ModelOptions;
import attnspark.api.ScoreResult;
import attnspark.api.TextScorer;
import attnspark.load.Models;
import attnspark.testutil.Shared;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The CLI path: ModelOptions' kernelsDir/allowAllKernels and --attn reach model construction. */
class HubKernelsModelsTest {
    private static final List<String> TEXTS = List.of("Once upon a time there was a little dog.", "The sun was warm.");

    static ModelOptions stories() {
        return ModelOptions.defaults().withModelDir(Shared.stories260k().toString());
    }

    private static List<ScoreResult> score(ModelOptions o) {
        try (TextScorer s = Models.loadScorer(o)) {
            return s.score(TEXTS, true);
        }
    }

    /** Scores with {@code o}, checks that {@code counter} saw calls (the kernel ran) and that the result equals eager's. */
    private static void assertKernelRanAndMatchesEager(ModelOptions o, AtomicInteger counter, List<ScoreResult> eager) {
        int before = counter.get();
        List<ScoreResult> got = score(o);
        assertTrue(counter.get() > before, "the kernel selected by --attn " + o.attn() + " never ran");
        for (int i = 0; i < TEXTS.size(); i++) {
            // the test kernel is eager behind a counter: the scores must be eager's, bit for bit
            assertEquals(eager.get(i).nll(), got.get(i).nll(), 0.0, "text " + i);
            assertArrayEquals(eager.get(i).tokenLogprobs(), got.get(i).tokenLogprobs(), 0f, "text " + i);
        }
    }

    @Test
    void allowAllKernelsReachesTheModelBuiltFromOptions() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Models.loadScorer(stories().withAttn("other-org/x")));
        assertTrue(e.getMessage().contains("trusted namespace"), e.getMessage());
        List<ScoreResult> eager = score(stories().withAttn("eager"));
        assertKernelRanAndMatchesEager(
                stories().withAttn("other-org/x").withAllowAllKernels(true), TestAttnKernel.MAIN_CALLS, eager);
        assertKernelRanAndMatchesEager(
                stories().withAttn("kernels-community/test-attn@v2"), TestAttnKernel.V2.CALLS, eager);
    }

    @Test
    void perSubConfigAttnOnASingleModel() {
        // "=eager" sets the top level: the scores are eager's, bit for bit
        List<ScoreResult> topLevel = score(stories().withAttn("=eager")),
                eager = score(stories().withAttn("eager"));
        for (int i = 0; i < TEXTS.size(); i++)
            assertEquals(eager.get(i).nll(), topLevel.get(i).nll(), 0.0);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Models.loadScorer(stories().withAttn("vision_config=sdpa")));
        assertTrue(e.getMessage().contains("'vision_config'") && e.getMessage().contains("valid keys"), e.getMessage());
    }
}
