package attnspark.kernels;

import static attnspark.kernels.VectorLinear.L;
import static attnspark.kernels.VectorLinear.PANEL;
import static attnspark.kernels.VectorLinear.S;

import java.lang.constant.ConstantDescs;
import java.lang.invoke.MethodHandles;
import jdk.incubator.vector.FloatVector;

/**
 * {@link VectorLinear}'s 8-row register tile with x's row stride {@link #K} a class constant.
 * Never used as itself: {@link Tile8Kernel#forStride} defines one hidden copy of this class per
 * input width, the width its class data, so C2 compiles each copy with K folded in. A k step then
 * reads the 8 rows' x values at one index, the rows as address displacements (K, 2K, ...), where a
 * stride C2 cannot see keeps 8 row offsets live beside the loop's own registers: it reloaded three
 * from the stack and added each to k on every step (about 65 µops for 24 FMAs, ~50 now). Measured
 * on an Intel Xeon (family 6 model 167), one core, one 8-row tile, both forms alternated in one JVM:
 * 154-184 GFLOP/s against 142-166 (1.05-1.12x), what x repacked k-major gave, without the copy that
 * repacking costs; MiniLM's whole passes 0.93x the time on short texts and 0.96x on 256-token
 * documents, the same bits (docs/perf/history.md, 2026-12-07 from 12:47 UTC).
 */
final class FixedStrideTile8 implements Tile8Kernel {
    /** x's row stride, floats: the linear's input width, from the hidden class's class data. */
    private static final int K = stride();

    private final float[] packed;
    private final int base;
    private final float[] bias;

    FixedStrideTile8(float[] packed, int base, float[] bias) {
        this.packed = packed;
        this.base = base;
        this.bias = bias;
    }

    private static int stride() {
        Integer k;
        try {
            k = MethodHandles.classData(MethodHandles.lookup(), ConstantDescs.DEFAULT_NAME, Integer.class);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
        if (k == null) {
            throw new IllegalStateException("FixedStrideTile8 is a template: use Tile8Kernel.forStride(in, ...), which"
                    + " defines a copy of it with its stride");
        }
        return k;
    }

    @Override
    public void tile8(
            float[] x, int xRow, int p, int k0, int k1, boolean first, float[] acc, int a, float[] dst, int d, int ld) {
        int c = p * PANEL;
        FloatVector z0 = FloatVector.fromArray(S, bias, c),
                z1 = FloatVector.fromArray(S, bias, c + L),
                z2 = FloatVector.fromArray(S, bias, c + 2 * L);
        FloatVector a00 = z0,
                a01 = z1,
                a02 = z2,
                a10 = z0,
                a11 = z1,
                a12 = z2,
                a20 = z0,
                a21 = z1,
                a22 = z2,
                a30 = z0,
                a31 = z1,
                a32 = z2;
        FloatVector a40 = z0,
                a41 = z1,
                a42 = z2,
                a50 = z0,
                a51 = z1,
                a52 = z2,
                a60 = z0,
                a61 = z1,
                a62 = z2,
                a70 = z0,
                a71 = z1,
                a72 = z2;
        if (!first) {
            a00 = FloatVector.fromArray(S, acc, a);
            a01 = FloatVector.fromArray(S, acc, a + L);
            a02 = FloatVector.fromArray(S, acc, a + 2 * L);
            a10 = FloatVector.fromArray(S, acc, a + PANEL);
            a11 = FloatVector.fromArray(S, acc, a + PANEL + L);
            a12 = FloatVector.fromArray(S, acc, a + PANEL + 2 * L);
            a20 = FloatVector.fromArray(S, acc, a + 2 * PANEL);
            a21 = FloatVector.fromArray(S, acc, a + 2 * PANEL + L);
            a22 = FloatVector.fromArray(S, acc, a + 2 * PANEL + 2 * L);
            a30 = FloatVector.fromArray(S, acc, a + 3 * PANEL);
            a31 = FloatVector.fromArray(S, acc, a + 3 * PANEL + L);
            a32 = FloatVector.fromArray(S, acc, a + 3 * PANEL + 2 * L);
            a40 = FloatVector.fromArray(S, acc, a + 4 * PANEL);
            a41 = FloatVector.fromArray(S, acc, a + 4 * PANEL + L);
            a42 = FloatVector.fromArray(S, acc, a + 4 * PANEL + 2 * L);
            a50 = FloatVector.fromArray(S, acc, a + 5 * PANEL);
            a51 = FloatVector.fromArray(S, acc, a + 5 * PANEL + L);
            a52 = FloatVector.fromArray(S, acc, a + 5 * PANEL + 2 * L);
            a60 = FloatVector.fromArray(S, acc, a + 6 * PANEL);
            a61 = FloatVector.fromArray(S, acc, a + 6 * PANEL + L);
            a62 = FloatVector.fromArray(S, acc, a + 6 * PANEL + 2 * L);
            a70 = FloatVector.fromArray(S, acc, a + 7 * PANEL);
            a71 = FloatVector.fromArray(S, acc, a + 7 * PANEL + L);
            a72 = FloatVector.fromArray(S, acc, a + 7 * PANEL + 2 * L);
        }
        int wBase = base + p * K * PANEL;
        float[] w = packed;
        for (int k = k0, xk = xRow + k0; k < k1; k++, xk++) {
            int o = wBase + k * PANEL;
            FloatVector w0 = FloatVector.fromArray(S, w, o),
                    w1 = FloatVector.fromArray(S, w, o + L),
                    w2 = FloatVector.fromArray(S, w, o + 2 * L);
            FloatVector b = FloatVector.broadcast(S, x[xk]);
            a00 = w0.fma(b, a00);
            a01 = w1.fma(b, a01);
            a02 = w2.fma(b, a02);
            b = FloatVector.broadcast(S, x[xk + 1 * K]);
            a10 = w0.fma(b, a10);
            a11 = w1.fma(b, a11);
            a12 = w2.fma(b, a12);
            b = FloatVector.broadcast(S, x[xk + 2 * K]);
            a20 = w0.fma(b, a20);
            a21 = w1.fma(b, a21);
            a22 = w2.fma(b, a22);
            b = FloatVector.broadcast(S, x[xk + 3 * K]);
            a30 = w0.fma(b, a30);
            a31 = w1.fma(b, a31);
            a32 = w2.fma(b, a32);
            b = FloatVector.broadcast(S, x[xk + 4 * K]);
            a40 = w0.fma(b, a40);
            a41 = w1.fma(b, a41);
            a42 = w2.fma(b, a42);
            b = FloatVector.broadcast(S, x[xk + 5 * K]);
            a50 = w0.fma(b, a50);
            a51 = w1.fma(b, a51);
            a52 = w2.fma(b, a52);
            b = FloatVector.broadcast(S, x[xk + 6 * K]);
            a60 = w0.fma(b, a60);
            a61 = w1.fma(b, a61);
            a62 = w2.fma(b, a62);
            b = FloatVector.broadcast(S, x[xk + 7 * K]);
            a70 = w0.fma(b, a70);
            a71 = w1.fma(b, a71);
            a72 = w2.fma(b, a72);
        }
        // accumulators go to the tile buffer only: passing vectors to a method that C2 does not
        // inline boxes them, and the kernel then runs several times slower
        a00.intoArray(dst, d + 0);
        a01.intoArray(dst, d + L);
        a02.intoArray(dst, d + 2 * L);
        a10.intoArray(dst, d + ld);
        a11.intoArray(dst, d + ld + L);
        a12.intoArray(dst, d + ld + 2 * L);
        a20.intoArray(dst, d + 2 * ld);
        a21.intoArray(dst, d + 2 * ld + L);
        a22.intoArray(dst, d + 2 * ld + 2 * L);
        a30.intoArray(dst, d + 3 * ld);
        a31.intoArray(dst, d + 3 * ld + L);
        a32.intoArray(dst, d + 3 * ld + 2 * L);
        a40.intoArray(dst, d + 4 * ld);
        a41.intoArray(dst, d + 4 * ld + L);
        a42.intoArray(dst, d + 4 * ld + 2 * L);
        a50.intoArray(dst, d + 5 * ld);
        a51.intoArray(dst, d + 5 * ld + L);
        a52.intoArray(dst, d + 5 * ld + 2 * L);
        a60.intoArray(dst, d + 6 * ld);
        a61.intoArray(dst, d + 6 * ld + L);
        a62.intoArray(dst, d + 6 * ld + 2 * L);
        a70.intoArray(dst, d + 7 * ld);
        a71.intoArray(dst, d + 7 * ld + L);
        a72.intoArray(dst, d + 7 * ld + 2 * L);
    }
}
