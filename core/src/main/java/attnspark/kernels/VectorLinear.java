package attnspark.kernels;

import attnspark.tensor.FloatTensor;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * nn.Linear as a JDK Vector API gemm that is <b>row-invariant</b>: every output element is
 * {@code fma(x[r,k], w[n,k], acc)} chained over k = 0..in-1 from {@code acc = bias[n]}, whatever
 * the number of rows, the row's place in the batch or the thread that computes it. The same
 * text therefore gives the same bits in any batch. OpenBLAS's sgemm does not: its results for
 * a row change with M and with the row's offset inside a call (checked on OpenBLAS 0.3.19,
 * single- and multi-threaded).
 *
 * <p>Layout, as in BLIS/OpenBLAS micro-kernels: the weight (out, in) is packed once into panels
 * of {@code 3·lanes} output columns stored k-major, so one k step loads three weight vectors and
 * broadcasts one x value per row; an 8-row x 3-vector tile keeps 24 accumulators in registers.
 * Rows past the last full tile go through a 1-row kernel with the same per-element chain.
 * Work items are (row block, panel range), claimed one at a time by the threads; {@link #forward(float[], int, float[], Epilogue)} says
 * how blocks are sized for short and long k (the cache blocking of BLIS's loops, kept to the one
 * chain per output that makes the kernel row-invariant).
 */
final class VectorLinear implements Linear {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final int PANEL = 3 * L; // output columns per packed panel
    private static final int FOUR_BITS = Float.floatToRawIntBits(4f);
    private static final int KC = 128; // k steps per weight sliver: (KC, PANEL) floats = 24 KiB, within L1
    private static final int LONG_K = 2048; // above this a whole panel (in·PANEL floats) no longer fits L2
    private static final long STREAMED_WEIGHT_BYTES = 8L << 20; // above this the weights come from memory, not L3
    // x's row block under k-steps over such weights: half of L2, and at least this many rows
    private static final long STREAMED_X_BLOCK_BYTES = CpuInfo.l2CacheBytes() / 2;
    private static final int STREAMED_BLOCK_ROWS = 128;
    // k chunks past LONG_K inputs: x's (rows, chunk) a quarter of L2, the parked sums at most 3/4
    private static final long X_CHUNK_BYTES = CpuInfo.l2CacheBytes() / 4;
    private static final long PARKED_SUMS_BYTES = CpuInfo.l2CacheBytes() * 3 / 4;
    // row blocks below this reuse each weight sliver too little to read the weights from L3 for each
    private static final int FEW_ROWS = 64;
    private static final long L2_WEIGHT_BYTES = CpuInfo.l2CacheBytes() * 3 / 4; // a panel range's weights, kept in L2
    // streamed weights over several row blocks: a panel range's weights, passed by every block while in L3
    private static final long STREAMED_RANGE_BYTES = 16L << 20;

    /**
     * Inputs above which k runs in KC-long steps, per CPU vendor (as OpenBLAS keeps its gemm
     * blocking per core type). On AMD's Zen cores (an EPYC, 2 cores, in-JVM alternation) MiniLM's
     * linears ran faster with a whole panel read from L2 for each 8-row tile than in 128- or
     * 96-step slivers (0.93x / 0.88x, the partial sums parked in y), so there the steps start
     * past LONG_K. On Intel's Ice Lake-SP (a Xeon, 2 cores) the same whole-panel reads held those
     * linears to about half the FMA peak, and 128-step slivers that stay in L1 ran them
     * 1.08-1.09x faster at 16,384 rows (1.02-1.08x at 2,048; steps of 64 / 96 / 192: 1.00 / 1.04
     * / 1.03x). On a newer Xeon (family 6 model 167, 48 KiB L1d, 2 MiB L2) the two settings ran
     * MiniLM the same (whole passes 0.98-1.00x), so the rule is by vendor, not by model. The bits
     * are the same either way: one fma chain per output.
     * {@code -Dattnspark.linear.kStepsAbove=N} overrides; it is read as each linear is built, so
     * one JVM can hold both settings to compare them.
     */
    static int kStepsAbove() {
        return Integer.getInteger(
                "attnspark.linear.kStepsAbove", CpuInfo.thisMachine().vendor() == CpuInfo.Vendor.INTEL ? KC : LONG_K);
    }

    // (panels, in, PANEL) from packed[base]: column p·PANEL + c, input k at base + (p·in + k)·PANEL + c;
    // zero past out. base is 64-byte aligned where the JVM allows (AlignedFloats), and so is every
    // weight vector the kernels load, PANEL floats being three whole vectors
    private final float[] packed;
    private final int base;
    private final float[] bias; // (panels·PANEL), zero past out and when the layer has none
    private final int in, out, panels;
    private final int kStepsAbove; // kStepsAbove(), or a test's choice
    private final long fewRowsRangeBytes; // L2_WEIGHT_BYTES, or a test's choice
    private final long streamedRangeBytes; // STREAMED_RANGE_BYTES, or a test's choice
    private final Tile8Kernel tile; // the 8-row tile, x's row stride (in) a constant in its code
    // each thread's k-step buffer, on 64-byte lines like x and y (AlignedFloats), grown to the
    // largest block it has run: the tiles load and store it a vector per row and panel third
    private static final ThreadScratch ACC = new ThreadScratch();
    private static final ThreadScratch TAIL = new ThreadScratch(); // each thread's padded x rows of a block's tail
    private static final int PADDED_TAIL = 3; // tails of this many rows or more take the 8-row tile

    VectorLinear(FloatTensor weight, FloatTensor b) {
        this(weight, b, kStepsAbove());
    }

    VectorLinear(FloatTensor weight, FloatTensor b, int kStepsAbove) {
        this(weight, b, kStepsAbove, L2_WEIGHT_BYTES, STREAMED_RANGE_BYTES);
    }

    /**
     * rangeBytes: the weights of a panel range where the work goes range by range, for blocks of
     * few rows and for streamed weights over several row blocks alike (a test's choice; else 3/4
     * of L2 and 16 MiB).
     */
    VectorLinear(FloatTensor weight, FloatTensor b, int kStepsAbove, long rangeBytes) {
        this(weight, b, kStepsAbove, rangeBytes, rangeBytes);
    }

    private VectorLinear(
            FloatTensor weight, FloatTensor b, int kStepsAbove, long fewRowsRangeBytes, long streamedRangeBytes) {
        this.kStepsAbove = kStepsAbove;
        this.fewRowsRangeBytes = fewRowsRangeBytes;
        this.streamedRangeBytes = streamedRangeBytes;
        this.out = weight.dim(0);
        this.in = weight.dim(1);
        this.panels = (out + PANEL - 1) / PANEL;
        FloatSpan span = AlignedFloats.allocate(Math.toIntExact((long) panels * in * PANEL));
        this.packed = span.array();
        this.base = span.offset();
        float[] w = weight.data;
        for (int n = 0; n < out; n++) {
            int p = n / PANEL, c = n % PANEL;
            for (int k = 0; k < in; k++) packed[base + (p * in + k) * PANEL + c] = w[n * in + k];
        }
        this.bias = new float[panels * PANEL];
        if (b != null) System.arraycopy(b.data, 0, bias, 0, out);
        this.tile = Tile8Kernel.forStride(in, packed, base, bias);
    }

    public int inFeatures() {
        return in;
    }

    public int outFeatures() {
        return out;
    }

    @Override
    public boolean rowInvariant() {
        return true;
    }

    public float[] forward(float[] x, int rows) {
        float[] y = new float[rows * out];
        forward(x, rows, y, Epilogue.NONE);
        return y;
    }

    @Override
    public void forward(FloatSpan xs, int rows, FloatSpan ys, Epilogue epilogue) {
        if (xs.length() < (long) rows * in || ys.length() < (long) rows * out) {
            throw new IllegalArgumentException(
                    "linear (" + in + " -> " + out + ") over " + rows + " rows needs x of " + (long) rows * in
                            + " and y of " + (long) rows * out + " floats, got " + xs.length() + " and "
                            + ys.length());
        }
        float[] x = xs.array(), y = ys.array();
        int xo = xs.offset(), yo = ys.offset();
        // k runs whole (one pass per panel, in·PANEL floats, from L2) up to kStepsAbove (LONG_K on
        // AMD, KC on Intel: see kStepsAbove()); past it k runs in KC-long steps whose (KC, PANEL)
        // weight sliver stays in L1 while all the block's row tiles pass over it; partial sums wait
        // in acc between steps, each output still one fma chain over k from the bias. The row
        // block of x that the panels pass over is 256 KiB (L2) for weights that stay in L3
        // (MiniLM's, at most 2.4 MiB) and 4 MiB (L3) past LONG_K, where a whole panel no longer
        // fits L2, and for weights streamed from memory once per block (a 1B Llama's 16-64 MiB
        // layers and 1 GiB head). (Measured at the 1B shapes on AMD, in-JVM alternation: at
        // in = 2048 whole panels over 4 MiB blocks beat the k-steps by 5-13 % over 130-2048 rows,
        // and by 2x over 100-128 rows of 2048 x 2048; the k-steps win 1.2x at in = 8192.)
        boolean kBlocked = in > kStepsAbove;
        long weightBytes = (long) panels * in * PANEL * Float.BYTES; // packed, zero-padded panels
        boolean streamed = weightBytes > STREAMED_WEIGHT_BYTES;
        int kc = kBlocked ? KC : in;
        int rowBlockFloats = in > LONG_K || streamed ? 1 << 20 : 1 << 16;
        int maxBlock = Math.max(TILE_ROWS, (rowBlockFloats / Math.max(1, in)) / TILE_ROWS * TILE_ROWS);
        // blocks of (nearly) equal size, 528 rows of at most 512: 2 x 264, not 512 + 16, so no item
        // is a sliver that streams all the weights for a few rows
        int blocksNeeded = (rows + maxBlock - 1) / maxBlock;
        if (kBlocked && (in > LONG_K || streamed)) {
            // k-steps over weights that stay in L3 or stream from memory: as many blocks as give each
            // at least half of L2 of x (and STREAMED_BLOCK_ROWS rows). Each panel reads its block's x
            // again for every k step: at in = 2,048 a 128-row block (1 MiB) stays in a 2 MiB L2 across
            // the panels, where a 512-row block (4 MiB) came from L3 for each panel. 128 rows still
            // do 64 flops per weight byte, far below memory bandwidth for weights that stream; and
            // fewer rows than two such blocks stay one block, so the scorer's 130-row slices of the
            // 1 GiB head read it once. On a newer Xeon (family 6 model 167, 2 MiB L2), each linear
            // alone, 2 threads, in-JVM alternation, the same bits: 2,048 -> 2,048 1.13x the GFLOP/s
            // at 2,048 rows (1.09x at 512), 2,048 -> 3,072 1.07x, 2,048 -> 16,384 1.02x, 8,192 ->
            // 2,048 (already 128 rows) the same; a fixed 128 rows at in = 576 (a 576 -> 49,152 head)
            // was 0.94x, hence the bytes.
            int l2Rows = (int) (STREAMED_X_BLOCK_BYTES / ((long) in * Float.BYTES));
            blocksNeeded = Math.max(blocksNeeded, rows / Math.max(STREAMED_BLOCK_ROWS, l2Rows));
        }
        int rowBlock = ((rows + blocksNeeded - 1) / blocksNeeded + TILE_ROWS - 1) / TILE_ROWS * TILE_ROWS;
        int rowBlocks = (rows + rowBlock - 1) / rowBlock;
        // k-steps over blocks of under FEW_ROWS rows (in = 1,536, FFN down: 40 rows) read all the
        // weights for each block again, from L3 when they do not fit L2 (MiniLM's 2.4 MiB): there the
        // panels go in ranges whose weights fit 3/4 of one core's L2, taken range by range (both
        // threads on one range's blocks, x read once per range). On a newer Xeon (family 6 model
        // 167, 2 MiB L2), in-JVM alternation: FFN down alone 0.886x the time at 16,384 rows with 2
        // ranges (4: 0.915x, 8: 1.04x); in = 384 with 168-row blocks gained nothing (1.00-1.04x);
        // whole passes on 120 long documents 0.966x, on 3,000 short texts 0.994x; the same bits.
        // Streamed weights over several row blocks went block by block, each block's pass reading
        // all of them from memory again (a 1B Llama's 128 MiB gate|up projection 16 times over
        // 2,048 rows, the 1 GiB head 4 times over a 520-row slice): there too the panels go in
        // ranges, of 16 MiB, which stay in L3 while every row block passes over them, x read once
        // per range. On a newer Xeon (family 6 model 167, 2 threads, in-JVM alternation, the same
        // bits): 2,048 -> 16,384 at 2,048 rows 1.08-1.13x the GFLOP/s (ranges of 8 / 32 MiB: 1.09
        // / 1.10x), 8,192 -> 2,048 1.02x, 2,048 -> 2,048 and -> 3,072 the same; with the scorer's
        // head slices of 520 rows (CausalLmScorer), the whole 6-layer prefill 0.947x the time at
        // 2,048 tokens and 0.959x at 512, the 2-layer one 0.955-0.960x at 2,048.
        long rangeBytes = streamed ? streamedRangeBytes : fewRowsRangeBytes;
        boolean fewRows = !streamed && in <= LONG_K && maxBlock < FEW_ROWS;
        boolean manyBlocks = streamed && rowBlocks > 1;
        int ranges = kBlocked && (fewRows || manyBlocks)
                ? (int) Math.min(panels, (weightBytes + rangeBytes - 1) / rangeBytes)
                : 1;
        int blockRows = Math.min(rows, rowBlock);
        int panelAccFloats = (blockRows + TILE_ROWS) * PANEL; // one panel's sums of a block in acc
        // Past LONG_K inputs a 128-row block of x no longer fits L2 (4 MiB at in = 8,192), and each
        // panel read it again from L3. There k runs in chunks whose x (blockRows, kChunk) is a
        // quarter of L2: each chunk passes all the item's panels, their partial sums parked in acc
        // (at most 3/4 of L2: more panel splits where they would not fit), so x comes from L3 once
        // per chunk and not once per panel. Each output is still one fma chain over k in order. On
        // a newer Xeon (family 6 model 167, 2 MiB L2), each linear alone at 2,048 rows, 2 threads,
        // in-JVM alternation, the same bits: 8,192 -> 2,048 (a 1B Llama's down projection) 1.21x
        // the GFLOP/s, 4,096 -> 2,048 1.20x, 3,072 -> 2,048 1.14x; with the sums held to half of
        // L2 (two panel splits at 8,192) 1.09-1.17x; x chunks of an eighth / a half of L2 with no
        // bound on the sums: 1.05-1.14x / 1.08-1.12x.
        boolean chunked = kBlocked && in > LONG_K && (long) blockRows * in * Float.BYTES > STREAMED_X_BLOCK_BYTES;
        int kChunk = chunked ? Math.max(KC, (int) (X_CHUNK_BYTES / ((long) blockRows * Float.BYTES)) / KC * KC) : in;
        int threadSplit = Math.max(ranges, Math.min(panels, (4 * Parallel.threads() + rowBlocks - 1) / rowBlocks));
        long parkedBytes = (long) panels * panelAccFloats * Float.BYTES; // all panels' sums of a block
        int panelSplit = chunked
                ? (int) Math.min(
                        panels, Math.max(threadSplit, (parkedBytes + PARKED_SUMS_BYTES - 1) / PARKED_SUMS_BYTES))
                : threadSplit;
        boolean rangeByRange = ranges > 1;
        int items = rowBlocks * panelSplit;
        int accFloats = chunked ? (panels + panelSplit - 1) / panelSplit * panelAccFloats : panelAccFloats;
        // claimed one at a time: the last row block may be smaller (Parallel.forEachItem)
        Parallel.forEachItem(items, () -> ACC.atLeast(accFloats), (accSpan, item) -> {
            float[] acc = accSpan.array();
            int a0 = accSpan.offset();
            int rb = rangeByRange ? item % rowBlocks : item / panelSplit;
            int ps = rangeByRange ? item / rowBlocks : item % panelSplit;
            int r0 = rb * rowBlock, r1 = Math.min(rows, r0 + rowBlock);
            int p0 = (int) ((long) panels * ps / panelSplit), p1 = (int) ((long) panels * (ps + 1) / panelSplit);
            int tiled = r0 + (r1 - r0) / TILE_ROWS * TILE_ROWS, tail = r1 - tiled;
            // 3-7 rows past the last whole tile go through the 8-row tile too, from a copy of their x
            // rows padded with zeros, their sums (and the padding's) into acc; 1-2 rows one at a time.
            // The 1-row kernel's three fma chains wait on the FMA latency (~4 cycles a k step for one
            // row, against ~12 for the tile's eight), and blocks of whole sequences (BertModel's
            // groups) end in such tails at every linear. MiniLM on a newer Xeon, whole passes in-JVM
            // alternated, the same hashes: 0.971x the time on short texts (all tails through the
            // tile: 1.023x against that), 0.992x on 256-token documents.
            FloatSpan pad = tail >= PADDED_TAIL ? TAIL.atLeast(TILE_ROWS * in) : null;
            if (pad != null) {
                float[] xp = pad.array();
                System.arraycopy(x, xo + tiled * in, xp, pad.offset(), tail * in);
                Arrays.fill(xp, pad.offset() + tail * in, pad.offset() + TILE_ROWS * in, 0f);
            }
            for (int c0 = 0; c0 < in; c0 += kChunk) {
                int c1 = Math.min(in, c0 + kChunk);
                for (int p = p0; p < p1; p++) {
                    int ap = chunked ? a0 + (p - p0) * panelAccFloats : a0;
                    // the last k step of each 8-row tile of a whole panel stores its sums straight into
                    // y (earlier steps park them in acc), so y's lines are fetched a tile at a time
                    // behind the next tile's FMAs rather than all at once by a copy of the block from
                    // acc after the panel (all-MiniLM-L6-v2 on a newer Xeon, whole passes alternated
                    // in one JVM: 0.975x the time on 120 long documents, the same on short texts)
                    boolean whole = (p + 1) * PANEL <= out;
                    for (int k0 = c0; k0 < c1; k0 += kc) {
                        int k1 = Math.min(c1, k0 + kc);
                        boolean first = k0 == 0, toY = whole && k1 == in;
                        for (int r = r0; r < tiled; r += TILE_ROWS) {
                            int a = ap + (r - r0) * PANEL;
                            if (toY)
                                tile.tile8(x, xo + r * in, p, k0, k1, first, acc, a, y, yo + r * out + p * PANEL, out);
                            else tile.tile8(x, xo + r * in, p, k0, k1, first, acc, a, acc, a, PANEL);
                        }
                        if (pad != null) {
                            int a = ap + (tiled - r0) * PANEL;
                            tile.tile8(pad.array(), pad.offset(), p, k0, k1, first, acc, a, acc, a, PANEL);
                        } else {
                            for (int r = tiled; r < r1; r++)
                                tile1(x, xo + r * in, p, k0, k1, acc, ap + (r - r0) * PANEL, first);
                        }
                    }
                    if (c1 < in) continue; // partial sums wait in acc for the next chunk
                    int rest = whole ? tiled : r0; // the rows whose sums are still in acc
                    if (whole && epilogue != Epilogue.NONE) {
                        // in place, over lines the tiles just wrote
                        finish(y, yo + r0 * out + p * PANEL, out, tiled - r0, yo + r0 * out, p, y, epilogue);
                    }
                    finish(acc, ap + (rest - r0) * PANEL, PANEL, r1 - rest, yo + rest * out, p, y, epilogue);
                }
            }
        });
    }

    /** The row of x from x[xRow], panel p: the same per-element chain as {@link Tile8Kernel#tile8}, so the bits do not depend on the tiling. */
    private void tile1(float[] x, int xRow, int p, int k0, int k1, float[] tile, int t, boolean first) {
        int c = p * PANEL;
        FloatVector a0 = FloatVector.fromArray(S, bias, c),
                a1 = FloatVector.fromArray(S, bias, c + L),
                a2 = FloatVector.fromArray(S, bias, c + 2 * L);
        if (!first) {
            a0 = FloatVector.fromArray(S, tile, t);
            a1 = FloatVector.fromArray(S, tile, t + L);
            a2 = FloatVector.fromArray(S, tile, t + 2 * L);
        }
        int K = in, x0 = xRow, wBase = base + p * K * PANEL;
        for (int k = k0; k < k1; k++) {
            int o = wBase + k * PANEL;
            FloatVector b = FloatVector.broadcast(S, x[x0 + k]);
            a0 = FloatVector.fromArray(S, packed, o).fma(b, a0);
            a1 = FloatVector.fromArray(S, packed, o + L).fma(b, a1);
            a2 = FloatVector.fromArray(S, packed, o + 2 * L).fma(b, a2);
        }
        a0.intoArray(tile, t);
        a1.intoArray(tile, t + L);
        a2.intoArray(tile, t + 2 * L);
    }

    /**
     * rows rows of y from y[yRow] (out apart), panel p = the epilogue of the sums at tile[t..]
     * (bias included), rows ld apart (acc, or y itself, in place); columns past out are not
     * written. A partial last panel goes through the scalar forms, which are the same float
     * operations.
     */
    private void finish(float[] tile, int t, int ld, int rows, int yRow, int p, float[] y, Epilogue epilogue) {
        int col = p * PANEL;
        for (int i = 0; i < rows; i++) {
            int yOff = yRow + i * out + col, tOff = t + i * ld;
            // a loop per epilogue: a vector that is v or gelu(v) by a branch is one C2 may leave boxed
            // (see VectorPackedAttention.maxOf), and this runs with both (GELU, and NONE for tail rows)
            if (col + PANEL <= out && epilogue == Epilogue.GELU) {
                gelu(tile, tOff, y, yOff);
            } else if (col + PANEL <= out) {
                for (int c = 0; c < PANEL; c += L)
                    FloatVector.fromArray(S, tile, tOff + c).intoArray(y, yOff + c);
            } else {
                for (int c = 0; c < out - col; c++) {
                    float v = tile[tOff + c];
                    y[yOff + c] = epilogue == Epilogue.GELU ? Epilogue.gelu(v) : v;
                }
            }
        }
    }

    /**
     * y[d..d+PANEL) = {@link Epilogue#gelu} of src[s..s+PANEL) lane-wise: the same float operations in
     * the same order, and a clamp that gives the same values. Arrays in and out, constants
     * broadcast in place: a helper from vector to vector (or one returning a constant vector) is
     * boxed at every call wherever C2 does not inline it (see {@link VectorExp#expSum}). Forced out
     * of line, the former forms cost MiniLM 110,821 heap bytes a token (gelu(FloatVector)) and
     * 663,781 at 0.73x the speed (the constants' helper) on long documents.
     */
    static void gelu(float[] src, int s, float[] y, int d) {
        for (int c = 0; c < PANEL; c += L) {
            FloatVector v = FloatVector.fromArray(S, src, s + c);
            // the clamp to [-4, 4] on the raw bits: |x| as an int orders like the float, so an int min
            // with 4's bits and the sign put back is max(-4, min(4, x)) for every x but NaN (which
            // becomes ±4 here; the output is NaN either way, from v). Four int instructions where
            // the float max and min with Java's NaN and -0.0 rules are about six each on AVX-512.
            IntVector bits = v.mul(0.70710678f).reinterpretAsInts();
            FloatVector x = bits.and(Integer.MAX_VALUE)
                    .min(FOUR_BITS)
                    .or(bits.and(Integer.MIN_VALUE))
                    .reinterpretAsFloats();
            FloatVector x2 = x.mul(x);
            FloatVector p = x2.fma(
                    FloatVector.broadcast(S, -2.72614225801306e-10f), FloatVector.broadcast(S, 2.77068142495902e-08f));
            p = p.fma(x2, FloatVector.broadcast(S, -2.10102402082508e-06f));
            p = p.fma(x2, FloatVector.broadcast(S, -5.69250639462346e-05f));
            p = p.fma(x2, FloatVector.broadcast(S, -7.34990630326855e-04f));
            p = p.fma(x2, FloatVector.broadcast(S, -2.95459980854025e-03f));
            p = p.fma(x2, FloatVector.broadcast(S, -1.60960333262415e-02f));
            p = p.mul(x);
            FloatVector q = x2.fma(
                    FloatVector.broadcast(S, -1.45660718464996e-05f), FloatVector.broadcast(S, -2.13374055278905e-04f));
            q = q.fma(x2, FloatVector.broadcast(S, -1.68282697438203e-03f));
            q = q.fma(x2, FloatVector.broadcast(S, -7.37332916720468e-03f));
            q = q.fma(x2, FloatVector.broadcast(S, -1.42647390514189e-02f));
            v.mul(0.5f).mul(p.div(q).add(1f)).intoArray(y, d + c);
        }
    }
}
