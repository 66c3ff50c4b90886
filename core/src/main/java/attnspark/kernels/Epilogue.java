package attnspark.kernels;

/**
 * What a linear does to each output after adding the bias, while the tile is still in registers
 * (saves a pass over a (rows, out) activation): nothing, or HF's exact "gelu".
 */
public enum Epilogue {
    NONE,
    /** 0.5·x·(1 + erf(x/√2)), HF ACT2FN["gelu"], with {@link #erf}. */
    GELU;

    /** The scalar form, for kernels without a fused epilogue: y[off .. off+len) in place. */
    public void apply(float[] y, int off, int len) {
        if (this == GELU) {
            for (int i = off; i < off + len; i++) y[i] = gelu(y[i]);
        }
    }

    public static float gelu(float v) {
        return 0.5f * v * (1f + erf(v * 0.70710678f));
    }

    /**
     * erf as a clamped rational polynomial (Eigen's float erf, {@code generic_fast_erf_float}, as XLA
     * uses it): |error| &lt; 4e-7, no exp and no branches, so it vectorises. Horner's rule in fused
     * multiply-adds, as Eigen's {@code pmadd} is where the CPU has them: half the operations of
     * separate multiplies and adds, each step rounded once (Math.fma is exactly rounded in every JIT
     * tier, so the bits do not depend on warm-up). {@link VectorLinear} evaluates the same
     * operations lane-wise.
     */
    public static float erf(float x) {
        x = Math.max(-4f, Math.min(4f, x));
        float x2 = x * x;
        float p = Math.fma(x2, -2.72614225801306e-10f, 2.77068142495902e-08f);
        p = Math.fma(p, x2, -2.10102402082508e-06f);
        p = Math.fma(p, x2, -5.69250639462346e-05f);
        p = Math.fma(p, x2, -7.34990630326855e-04f);
        p = Math.fma(p, x2, -2.95459980854025e-03f);
        p = Math.fma(p, x2, -1.60960333262415e-02f);
        p = p * x;
        float q = Math.fma(x2, -1.45660718464996e-05f, -2.13374055278905e-04f);
        q = Math.fma(q, x2, -1.68282697438203e-03f);
        q = Math.fma(q, x2, -7.37332916720468e-03f);
        q = Math.fma(q, x2, -1.42647390514189e-02f);
        return p / q;
    }
}
