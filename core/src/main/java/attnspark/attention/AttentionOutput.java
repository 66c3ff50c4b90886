package attnspark.attention;

import attnspark.tensor.FloatTensor;

/**
 * @param output  (B, Sq, Hq, D), the layout HF backends return
 * @param weights (B, Hq, Sq, Skv) for backends that return them (eager); for flex_attention the
 *                log-sum-exp (B, Hq, Sq) as HF's flex path returns it; else null
 */
public record AttentionOutput(FloatTensor output, FloatTensor weights) {}
