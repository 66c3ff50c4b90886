package attnspark.api;

import java.util.Locale;

/**
 * How a document longer than one forward is cut into forwards when scoring (README, "Scoring").
 * Each mode has a window recipe of its own; none is a variant of another.
 */
public enum ScoringMode {
    /** One forward per document; a document longer than the model's positions (or --max-length) is truncated. */
    FULL("full"),
    /**
     * HF's perplexity guide ("Perplexity of fixed-length models"): windows of W tokens every S
     * tokens, each scoring the tokens no earlier window scored ({@link attnspark.models.llama.WindowedScorer}).
     */
    HF_STRIDED("hf-strided"),
    /**
     * lm-evaluation-harness {@code loglikelihood_rolling}: disjoint windows of L predicted tokens,
     * the first conditioned on BOS only ({@link attnspark.models.llama.LmEvalRollingWindows}).
     */
    LM_EVAL_ROLLING("lm-eval-rolling");

    private final String cliName;

    ScoringMode(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    /** The mode named {@code name} ({@code full}, {@code hf-strided}, {@code lm-eval-rolling}). */
    public static ScoringMode fromCliName(String name) {
        for (ScoringMode m : values()) {
            if (m.cliName.equals(name.toLowerCase(Locale.ROOT))) return m;
        }
        throw new IllegalArgumentException(
                "unknown scoring mode '" + name + "'; use full, hf-strided or lm-eval-rolling");
    }

    /**
     * Why {@code window}/{@code stride} do not fit this mode, as one line naming the options;
     * null when they fit. Shared by the in-process API ({@link attnspark.load.Models#loadScorer}) and the job's
     * option checks, so both refuse the same combinations.
     */
    public String misfit(int window, int stride) {
        return switch (this) {
            case FULL ->
                window > 0 || stride > 0
                        ? "--mode full scores each document in one forward and takes no --window/--stride;"
                                + " use --mode hf-strided --window W --stride S or --mode lm-eval-rolling --window L"
                        : null;
            case HF_STRIDED ->
                window <= 0 || stride <= 0
                        ? "--mode hf-strided needs "
                                + (window <= 0 && stride <= 0
                                        ? "--window W and --stride S"
                                        : window <= 0 ? "--window W" : "--stride S")
                                + " (HF's recipe: W-token windows moving by S tokens)"
                        : window == 1
                                ? "--window 1 leaves no context; use at least 2"
                                : stride > window ? "--stride " + stride + " must not exceed --window " + window : null;
            case LM_EVAL_ROLLING ->
                window <= 0
                        ? "--mode lm-eval-rolling needs --window L (lm-eval's max_length: tokens per forward)"
                        : stride > 0
                                ? "--mode lm-eval-rolling takes no --stride: its windows are disjoint, each predicting"
                                        + " up to L new tokens (lm-eval's context_len=1); drop --stride or use --mode hf-strided"
                                : null;
        };
    }
}
