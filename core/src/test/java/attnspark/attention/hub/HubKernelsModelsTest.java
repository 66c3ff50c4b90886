package attnspark.attention.hub;

import attnspark.api.ModelOptions;
import attnspark.api.Models;
import attnspark.testutil.Shared;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The CLI path: ModelOptions' kernelsDir/allowAllKernels and --attn reach model construction. */
class HubKernelsModelsTest {
    static ModelOptions stories() {
        return ModelOptions.defaults().withModelDir(Shared.stories260k().toString());
    }

    @Test
    void allowAllKernelsReachesTheModelBuiltFromOptions() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Models.loadScorer(stories().withAttn("other-org/x")));
        assertTrue(e.getMessage().contains("trusted namespace"), e.getMessage());
        assertNotNull(Models.loadScorer(stories().withAttn("other-org/x").withAllowAllKernels(true)));
        assertNotNull(Models.loadScorer(stories().withAttn("kernels-community/test-attn@v2")));
    }

    @Test
    void perSubConfigAttnOnASingleModel() {
        assertNotNull(Models.loadScorer(stories().withAttn("=eager")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Models.loadScorer(stories().withAttn("vision_config=sdpa")));
        assertTrue(e.getMessage().contains("'vision_config'") && e.getMessage().contains("valid keys"), e.getMessage());
    }
}
