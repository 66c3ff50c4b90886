package attnspark.kernels;

import attnspark.tensor.FloatTensor;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Bidirectional softmax attention over packed variable-length sequences (flash-attn's varlen
 * layout) with register-tiled Vector API micro-kernels, for the encoder's sdpa fast path
 * ({@code SdpaAttention.packedBidirectional}). Per (sequence, head), with the keys transposed
 * once into {@code kT} (D, stride) and the values copied into {@code v} (n, Dp):
 * <ol>
 *   <li>scores: a tile of 4 query rows x 4 lane-groups of keys keeps 16 accumulators in
 *       registers; one d step loads 4 key vectors and broadcasts 4 query values (a row at a time
 *       would load a key vector per FMA, and loads, not FMAs, would bound it); bidirectional 8-row
 *       tiles take 8 rows x 3 lane-groups ({@link #scores8});</li>
 *   <li>softmax per row: max, then e^(s·scaling - max) and its sum in one pass ({@link VectorExp#expSum});</li>
 *   <li>P·V: a tile of 8 query rows x 2 lane-groups of output dims, 16 accumulators, one key per
 *       step (2 value loads, 8 probability broadcasts); 4-row tiles where fewer rows are left and in
 *       causal tiles. 16 chains instead of 8 (8 barely cover an FMA's latency on two pipes): MiniLM's
 *       attention 1.02-1.12x faster at 200-320 tokens, same bits; no change at 512 or under 42.</li>
 * </ol>
 * Bitwise batch invariance: every score is {@code fma(k[j,d], q[i,d], s)} chained over d = 0..D-1
 * from zero, scaled inside the exponent's fma; every output element is {@code fma(v[j,d], p[i,j], o)}
 * chained over j = 0..n-1 from zero, then {@code · (1 / Σp)} with Σp summed lane-wise over key
 * blocks in order and then over lanes by {@link VectorExp#HALVES}' fixed tree. Rows past the last 4-row tile and key
 * blocks past the last 4-block tile run the same chains in smaller kernels, so a sequence's bits
 * depend on its own rows only, never on its place in the batch or the tiling.
 * Loaded only when the JVM has jdk.incubator.vector.
 */
public final class VectorPackedAttention {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = S.withLanes(int.class); // S's shape: never another one
    private static final int L = S.length();
    private static final int ROWS = 4; // query rows per score tile; bidirectional P·V tiles take two
    private static final FloatVector LANE = FloatVector.zero(S).addIndex(1); // 0, 1, ..., L-1

    /** One thread's buffers, grown to the longest (sequence, head) it has run and reused. */
    private static final class Scratch {
        float[] kT = new float[0], v = new float[0], scores = new float[0], tile = new float[0];
        final float[] inv = new float[2 * ROWS];
        final int[] maxBits = new int[2 * ROWS]; // see scores4
        final int[] seen = new int[2 * ROWS]; // keys each row of the tile sees
        final int[] keyOffsets = new int[L]; // j·keyOffsetsStride for j < L: the key gather's index map
        int keyOffsetsStride = -1;

        Scratch fit(int D, int Dp, int stride, int n) {
            if (kT.length < D * stride) kT = new float[D * stride];
            if (v.length < n * Dp) v = new float[n * Dp];
            if (scores.length < 2 * ROWS * stride) scores = new float[2 * ROWS * stride];
            if (tile.length < 2 * ROWS * Dp) tile = new float[2 * ROWS * Dp];
            return this;
        }
    }

    /**
     * Heads per work item of {@link #bidirectional}: their keys and values are gathered in one
     * sweep over the sequence's qkv rows (G·D contiguous floats per row, which the prefetchers
     * follow) instead of one 3·H·D-strided pass per head; 4 heads' scratch (2·4·n·D floats) stays
     * in L2 up to n ≈ 1k. Measured 1.2-1.35x on MiniLM's attention (n = 41..512).
     */
    private static final int GROUP = 4;

    private static final ThreadLocal<Scratch[]> SCRATCH = ThreadLocal.withInitial(() -> {
        Scratch[] group = new Scratch[GROUP];
        for (int g = 0; g < GROUP; g++) group[g] = new Scratch();
        return group;
    });

    private VectorPackedAttention() {}

    /** n rounded up to whole lane-groups: the key stride of the transposed keys. */
    static int padded(int n) {
        return (n + L - 1) / L * L;
    }

    /**
     * {@code qkv} (T, 3·H·D) holds each token's q | k | v; sequence b is rows
     * {@code cuSeqlens[b] .. cuSeqlens[b+1]-1}. Writes {@code out} (T, H·D). Both from their span's offset. One work item per
     * (sequence, group of up to {@link #GROUP} heads), spread over {@link Parallel}'s threads;
     * fewer heads per item when there would be under four items per thread. Each head's bits do
     * not depend on its group.
     */
    public static void bidirectional(
            FloatSpan qkv, int[] cuSeqlens, int sequences, int heads, int headDim, float scaling, FloatSpan out) {
        int group = Math.max(1, Math.min(GROUP, sequences * heads / (4 * Parallel.threads())));
        int groups = (heads + group - 1) / group;
        // claimed one at a time: a sequence's cost grows with the square of its length
        Parallel.forEachItem(sequences * groups, SCRATCH::get, (scratch, item) -> {
            int b = item / groups, h0 = item % groups * group;
            int start = cuSeqlens[b], n = cuSeqlens[b + 1] - start;
            heads(qkv, start, n, h0, Math.min(heads, h0 + group) - h0, heads, headDim, scaling, out, scratch);
        });
    }

    /**
     * One sequence of a heads-first call: batch row {@code batch}, query rows {@code qStart ..
     * qStart+nq-1} of the Sq axis against key rows {@code kStart .. kStart+nk-1} of the Skv axis.
     */
    public record Sequence(int batch, int qStart, int nq, int kStart, int nk) {}

    /**
     * SDPA's FLASH_ATTENTION kernel on torch's heads-first layout: query (B, H, Sq, D), key (B,
     * Hkv, Skv, D), value (B, Hkv, Skv, Dv) (query head h reads kv head h / (H/Hkv)), out (B, Sq,
     * H, Dv), written only at the sequences' query rows. Causal is torch's {@code is_causal}
     * (top-left: local query i sees local keys 0..i). The same tiles and chains as {@link
     * #bidirectional}, with a causal tile of 4 rows scoring only the keys its last row sees; a
     * hidden key's probability is 0, so each output chain runs over the tile's keys and a
     * sequence's bits depend on its own rows only. One work item per (sequence, head).
     */
    public static void headsFirst(
            FloatTensor query,
            FloatTensor key,
            FloatTensor value,
            Sequence[] sequences,
            boolean causal,
            float scaling,
            float[] out) {
        int H = query.dim(1), Hkv = key.dim(1);
        Parallel.forEachItem(sequences.length * H, SCRATCH::get, (scratch, item) -> {
            Sequence seq = sequences[item / H];
            int h = item % H;
            headFirst(query, key, value, seq, h, h / (H / Hkv), causal, scaling, out, scratch);
        });
    }

    /** {@link #headsFirst} for query head h (kv head kvHead) of one sequence. */
    private static void headFirst(
            FloatTensor query,
            FloatTensor key,
            FloatTensor value,
            Sequence seq,
            int h,
            int kvHead,
            boolean causal,
            float scaling,
            float[] out,
            Scratch[] scratch) {
        Scratch s = scratch[0];
        int H = query.dim(1), Sq = query.dim(2), D = query.dim(3);
        int Hkv = key.dim(1), Skv = key.dim(2), Dv = value.dim(3);
        int nq = seq.nq(), nk = seq.nk(), b = seq.batch();
        if (nq == 0 || nk == 0) return;
        int stride = padded(nk), Dp = padded(Dv);
        s.fit(D, Dp, stride, nk);
        float[] kd = key.data, vd = value.data, qd = query.data;
        int kvRow0 = (b * Hkv + kvHead) * Skv + seq.kStart();
        int keys = causal ? Math.min(nk, nq) : nk; // the last query row sees this many
        loadKeysAndValues(new KeyValueRows(kd, kvRow0 * D, D, D, vd, kvRow0 * Dv, Dv, Dv, 0), keys, stride, scratch, 1);
        int qBase = ((b * H + h) * Sq + seq.qStart()) * D;
        attend(
                new HeadRows(
                        qd,
                        qBase,
                        D,
                        nq,
                        nk,
                        causal,
                        D,
                        Dv,
                        scaling,
                        out,
                        (b * Sq + seq.qStart()) * H * Dv + h * Dv,
                        H * Dv),
                s);
    }

    /** Keys local query i sees: 0..i under top-left causality, else all nk. */
    private static int seen(int i, int nk, boolean causal) {
        return causal ? Math.min(nk, i + 1) : nk;
    }

    /** Attention of heads h0 .. h0+count-1 over the n rows from row start, head h0+g in scratch[g]. */
    private static void heads(
            FloatSpan qkvSpan,
            int start,
            int n,
            int h0,
            int count,
            int heads,
            int D,
            float scaling,
            FloatSpan out,
            Scratch[] scratch) {
        if (n == 0) return;
        int width = heads * D, rowStride = 3 * width, stride = padded(n), Dp = padded(D);
        float[] qkv = qkvSpan.array();
        int first = qkvSpan.offset() + start * rowStride, outFirst = out.offset() + start * width;
        for (int g = 0; g < count; g++) scratch[g].fit(D, Dp, stride, n);
        var rows = new KeyValueRows(
                qkv, first + width + h0 * D, rowStride, D, qkv, first + 2 * width + h0 * D, rowStride, D, D);
        loadKeysAndValues(rows, n, stride, scratch, count);
        for (int g = 0, h = h0; g < count; g++, h++) {
            attend(
                    new HeadRows(
                            qkv,
                            first + h * D,
                            rowStride,
                            n,
                            n,
                            false,
                            D,
                            D,
                            scaling,
                            out.array(),
                            outFirst + h * D,
                            width),
                    scratch[g]);
        }
    }

    /**
     * Where one work item's keys and values are: key j of head g is D floats at {@code k[kFirst +
     * g·headStep + j·kStride]}, value j of head g Dv floats at {@code v[vFirst + g·headStep +
     * j·vStride]}.
     */
    private record KeyValueRows(
            float[] k, int kFirst, int kStride, int D, float[] v, int vFirst, int vStride, int Dv, int headStep) {}

    /**
     * For each of the first count scratches g: key j of head g into column j of its {@code kT} (D,
     * stride), value j into row j of its {@code v} (keys, padded(Dv)), for j &lt; keys; in one sweep
     * over the key rows, a lane-group of keys at a time. Within a group, the keys are transposed a
     * dim at a time, so each run of stores fills one {@code kT} line: key by key, each key's D
     * floats went to D lines {@code stride} apart (1 KB at 256 keys), one float each, and the
     * transpose took 15 % of MiniLM's attention at 256 tokens; this order made the whole attention
     * 1.08-1.13x faster on one thread (41-512 tokens) and 1.13-1.18x on two, same bits. (Padding
     * the stride off a multiple of 256 bytes, for the score tiles' reads of {@code kT}, changed
     * nothing.) A whole lane-group of keys is one gather per dim (AVX-512 {@code vgatherdps}, L keys
     * kStride apart) where L scalar copies were: MiniLM's attention 1.02-1.04x at 41-256 tokens, same
     * bits. (Reading the values where they are instead of copying them: 1.06x at 41 tokens but
     * 0.97x at 248-256, as P·V's loads then stride 3·H·D floats; not done.)
     */
    private static void loadKeysAndValues(KeyValueRows rows, int keys, int stride, Scratch[] scratch, int count) {
        float[] k = rows.k(), v = rows.v();
        int D = rows.D(), Dv = rows.Dv();
        int Dp = padded(Dv);
        int kStride = rows.kStride();
        int[] offsets = scratch[0].keyOffsets;
        if (scratch[0].keyOffsetsStride != kStride) {
            for (int j = 0; j < L; j++) offsets[j] = j * kStride;
            scratch[0].keyOffsetsStride = kStride;
        }
        for (int j0 = 0; j0 < keys; j0 += L) {
            int j1 = Math.min(keys, j0 + L);
            for (int g = 0; g < count; g++) {
                float[] kT = scratch[g].kT;
                int src = rows.kFirst() + g * rows.headStep();
                if (j1 - j0 == L) {
                    int first = src + j0 * kStride;
                    for (int d = 0; d < D; d++)
                        FloatVector.fromArray(S, k, first + d, offsets, 0).intoArray(kT, d * stride + j0);
                } else {
                    for (int d = 0; d < D; d++) {
                        int dst = d * stride;
                        for (int j = j0; j < j1; j++) kT[dst + j] = k[src + j * kStride + d];
                    }
                }
            }
            for (int j = j0; j < j1; j++) {
                for (int g = 0; g < count; g++) {
                    float[] vs = scratch[g].v;
                    System.arraycopy(v, rows.vFirst() + g * rows.headStep() + j * rows.vStride(), vs, j * Dp, Dv);
                    if (Dp > Dv) Arrays.fill(vs, j * Dp + Dv, (j + 1) * Dp, 0f);
                }
            }
        }
    }

    /**
     * One (sequence, head)'s queries and output, for {@link #attend}: nq query rows from
     * {@code q[qBase]}, {@code qStride} apart, of D dims; nk keys (causal: local query i sees keys
     * 0..i); Dv outputs of query row i at {@code out[outFirst + i·outWidth]}.
     */
    private record HeadRows(
            float[] q,
            int qBase,
            int qStride,
            int nq,
            int nk,
            boolean causal,
            int D,
            int Dv,
            float scaling,
            float[] out,
            int outFirst,
            int outWidth) {}

    /**
     * The query rows of one (sequence, head) once the scratch holds its keys transposed
     * ({@code kT}, (D, padded(nk))) and its values ({@code v}, (nk, padded(Dv))): 8-row tiles
     * (bidirectional only: every row sees every key, so the two score tiles fold the same max
     * blocks), then 4-row tiles, then single rows; a causal tile scores and sums only the keys its
     * last row sees.
     */
    private static void attend(HeadRows r, Scratch s) {
        int stride = padded(r.nk()), Dp = padded(r.Dv()), qStride = r.qStride();
        int i = 0;
        if (!r.causal()) {
            int n = r.nk(), cols = padded(n);
            for (; i + 2 * ROWS <= r.nq(); i += 2 * ROWS) {
                for (int k = 0; k < 2 * ROWS; k++) s.seen[k] = n;
                int folded = scores8(r.q(), r.qBase() + i * qStride, qStride, r.D(), s.kT, stride, cols, n, s);
                softmax(2 * ROWS, stride, cols, folded, r.scaling(), s);
                for (int d0 = 0; d0 < Dp; d0 += 2 * L) {
                    if (d0 + 2 * L <= Dp) pv8x2(s.v, n, Dp, d0, s.scores, stride, s.tile);
                    else {
                        pv4x1(s.v, n, Dp, d0, s.scores, 0, stride, s.tile, 0);
                        pv4x1(s.v, n, Dp, d0, s.scores, ROWS * stride, stride, s.tile, ROWS * Dp);
                    }
                }
                write(2 * ROWS, r.outFirst() + i * r.outWidth(), r.outWidth(), r.Dv(), Dp, s, r.out());
            }
        }
        for (; i + ROWS <= r.nq(); i += ROWS) {
            int last = seen(i + ROWS - 1, r.nk(), r.causal()), cols = padded(last);
            for (int k = 0; k < ROWS; k++) s.seen[k] = seen(i + k, r.nk(), r.causal());
            int folded = scores4(
                    r.q(), r.qBase() + i * qStride, qStride, r.D(), s.kT, stride, cols, s.scores, s.seen[0], s.maxBits);
            softmax(ROWS, stride, cols, folded, r.scaling(), s);
            int d0 = 0;
            for (; d0 + 4 * L <= Dp; d0 += 4 * L) pv4x4(s.v, last, Dp, d0, s.scores, stride, s.tile);
            for (; d0 < Dp; d0 += 2 * L) {
                if (d0 + 2 * L <= Dp) pv4x2(s.v, last, Dp, d0, s.scores, stride, s.tile);
                else pv4x1(s.v, last, Dp, d0, s.scores, 0, stride, s.tile, 0);
            }
            write(ROWS, r.outFirst() + i * r.outWidth(), r.outWidth(), r.Dv(), Dp, s, r.out());
        }
        for (; i < r.nq(); i++) {
            int last = seen(i, r.nk(), r.causal()), cols = padded(last);
            s.seen[0] = last;
            scores1(r.q(), r.qBase() + i * qStride, r.D(), s.kT, stride, cols, s.scores);
            softmax(1, stride, cols, 0, r.scaling(), s);
            pv1(s.v, last, Dp, s.scores, s.tile);
            write(1, r.outFirst() + i * r.outWidth(), r.outWidth(), r.Dv(), Dp, s, r.out());
        }
    }

    /**
     * Raw scores q·k of 4 query rows (q rows qStride apart) against keys 0..cols-1 into scores (4,
     * stride): 4x4 lane-group tiles while every row sees all their keys, then {@link
     * #scoresTile}s of up to 4 lane-groups (below 4 lane-groups in all, a lane-group at a time). kT is
     * (D, stride); cols is a multiple of the lanes.
     * Then each row's max over the whole lane-groups within the first {@code full} keys (which all 4
     * rows see) goes to maxBits[0..3] ({@link #foldMaxBits}, from the stored scores in L1); returns
     * how many leading keys that covers (0: none). Not folded in the tile's registers: in about a
     * third of JVMs C2 boxed the running IntVector maxima there (JFR: gigabytes of int[] allocated
     * in this method after warm-up) and whole long-document passes ran 8-13 % slower. The fold is
     * the signed-int max of the scores' raw bits: one instruction per vector, where the float max
     * with Java's NaN and -0.0 rules is six on AVX-512. Over non-negative
     * floats int order is float order, so where the result is non-negative it is the exact max, and
     * {@link #softmax} uses it only then; a row whose keys are all negative gets its max from a float
     * scan. Exact either way, so the softmax's bits are those of one float max over the row.
     */
    private static int scores4(
            float[] q,
            int q0,
            int qStride,
            int D,
            float[] kT,
            int stride,
            int cols,
            float[] scores,
            int full,
            int[] maxBits) {
        int q1 = q0 + qStride, q2 = q1 + qStride, q3 = q2 + qStride;
        int foldEnd = full / L * L; // the whole lane-groups every row sees
        int j0 = 0;
        // scoresTile4's tile, inline: a call per tile costs more than the tile at these sizes
        for (; j0 + 4 * L <= foldEnd; j0 += 4 * L) {
            int r0 = j0, r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride;
            FloatVector z = FloatVector.zero(S);
            FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
            FloatVector a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
            for (int d = 0; d < D; d++) {
                int k = d * stride + j0;
                FloatVector k0 = FloatVector.fromArray(S, kT, k),
                        k1 = FloatVector.fromArray(S, kT, k + L),
                        k2 = FloatVector.fromArray(S, kT, k + 2 * L),
                        k3 = FloatVector.fromArray(S, kT, k + 3 * L);
                FloatVector b = FloatVector.broadcast(S, q[q0 + d]);
                a00 = k0.fma(b, a00);
                a01 = k1.fma(b, a01);
                a02 = k2.fma(b, a02);
                a03 = k3.fma(b, a03);
                b = FloatVector.broadcast(S, q[q1 + d]);
                a10 = k0.fma(b, a10);
                a11 = k1.fma(b, a11);
                a12 = k2.fma(b, a12);
                a13 = k3.fma(b, a13);
                b = FloatVector.broadcast(S, q[q2 + d]);
                a20 = k0.fma(b, a20);
                a21 = k1.fma(b, a21);
                a22 = k2.fma(b, a22);
                a23 = k3.fma(b, a23);
                b = FloatVector.broadcast(S, q[q3 + d]);
                a30 = k0.fma(b, a30);
                a31 = k1.fma(b, a31);
                a32 = k2.fma(b, a32);
                a33 = k3.fma(b, a33);
            }
            a00.intoArray(scores, r0);
            a01.intoArray(scores, r0 + L);
            a02.intoArray(scores, r0 + 2 * L);
            a03.intoArray(scores, r0 + 3 * L);
            a10.intoArray(scores, r1);
            a11.intoArray(scores, r1 + L);
            a12.intoArray(scores, r1 + 2 * L);
            a13.intoArray(scores, r1 + 3 * L);
            a20.intoArray(scores, r2);
            a21.intoArray(scores, r2 + L);
            a22.intoArray(scores, r2 + 2 * L);
            a23.intoArray(scores, r2 + 3 * L);
            a30.intoArray(scores, r3);
            a31.intoArray(scores, r3 + L);
            a32.intoArray(scores, r3 + 2 * L);
            a33.intoArray(scores, r3 + 3 * L);
        }
        if (j0 == 0 && cols < 4 * L) {
            // a few tokens: a lane-group at a time, no fold (the call and the fold cost more than they save)
            for (; j0 < cols; j0 += L) {
                FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
                for (int d = 0; d < D; d++) {
                    FloatVector k = FloatVector.fromArray(S, kT, d * stride + j0);
                    a0 = k.fma(FloatVector.broadcast(S, q[q0 + d]), a0);
                    a1 = k.fma(FloatVector.broadcast(S, q[q1 + d]), a1);
                    a2 = k.fma(FloatVector.broadcast(S, q[q2 + d]), a2);
                    a3 = k.fma(FloatVector.broadcast(S, q[q3 + d]), a3);
                }
                a0.intoArray(scores, j0);
                a1.intoArray(scores, stride + j0);
                a2.intoArray(scores, 2 * stride + j0);
                a3.intoArray(scores, 3 * stride + j0);
            }
            return 0;
        }
        for (int groups; j0 < cols; j0 += groups * L) {
            groups = Math.min(4, (cols - j0) / L);
            scoresTile(q, q0, qStride, D, kT, stride, j0, groups, scores);
        }
        // one fold over every whole lane-group all 4 rows see, from the stored scores
        Arrays.fill(maxBits, 0, ROWS, Integer.MIN_VALUE);
        if (foldEnd > 0) foldMaxBits(scores, 0, stride, foldEnd / L, maxBits, 0);
        return foldEnd;
    }

    /**
     * Raw scores of 8 query rows that all see keys 0..n-1 (a bidirectional tile) into
     * {@code s.scores} (8, stride): 8 x 3 lane-group tiles (24 accumulators; one d step loads 3 key
     * vectors and broadcasts 8 query values), then 8 x 1 for the lane-groups left. Each key vector
     * serves 8 rows, where two {@link #scores4} calls read all of kT once per 4 rows, and a short
     * sequence's 2-3 lane-groups are one tile, not two 4-row passes. The same chains as {@link
     * #scores4}. Then, from 4 lane-groups up, each row's max over the whole lane-groups ({@link
     * #foldMaxBits}) into s.maxBits[0..7]; returns how many leading keys that covers (0: none).
     * MiniLM's attention alone (16,384 tokens a call, in-JVM alternation, same bits): 0.89-0.94x the
     * time at 41 tokens a sequence, the same at 20 and 64-256.
     */
    private static int scores8(
            float[] q, int q0, int qStride, int D, float[] kT, int stride, int cols, int n, Scratch s) {
        float[] scores = s.scores;
        int q1 = q0 + qStride, q2 = q1 + qStride, q3 = q2 + qStride, q4 = q3 + qStride;
        int q5 = q4 + qStride, q6 = q5 + qStride, q7 = q6 + qStride;
        int j0 = 0;
        for (; j0 + 3 * L <= cols; j0 += 3 * L) {
            FloatVector z = FloatVector.zero(S);
            FloatVector a00 = z, a01 = z, a02 = z, a10 = z, a11 = z, a12 = z, a20 = z, a21 = z, a22 = z;
            FloatVector a30 = z, a31 = z, a32 = z, a40 = z, a41 = z, a42 = z, a50 = z, a51 = z, a52 = z;
            FloatVector a60 = z, a61 = z, a62 = z, a70 = z, a71 = z, a72 = z;
            for (int d = 0; d < D; d++) {
                int k = d * stride + j0;
                FloatVector k0 = FloatVector.fromArray(S, kT, k),
                        k1 = FloatVector.fromArray(S, kT, k + L),
                        k2 = FloatVector.fromArray(S, kT, k + 2 * L);
                FloatVector b = FloatVector.broadcast(S, q[q0 + d]);
                a00 = k0.fma(b, a00);
                a01 = k1.fma(b, a01);
                a02 = k2.fma(b, a02);
                b = FloatVector.broadcast(S, q[q1 + d]);
                a10 = k0.fma(b, a10);
                a11 = k1.fma(b, a11);
                a12 = k2.fma(b, a12);
                b = FloatVector.broadcast(S, q[q2 + d]);
                a20 = k0.fma(b, a20);
                a21 = k1.fma(b, a21);
                a22 = k2.fma(b, a22);
                b = FloatVector.broadcast(S, q[q3 + d]);
                a30 = k0.fma(b, a30);
                a31 = k1.fma(b, a31);
                a32 = k2.fma(b, a32);
                b = FloatVector.broadcast(S, q[q4 + d]);
                a40 = k0.fma(b, a40);
                a41 = k1.fma(b, a41);
                a42 = k2.fma(b, a42);
                b = FloatVector.broadcast(S, q[q5 + d]);
                a50 = k0.fma(b, a50);
                a51 = k1.fma(b, a51);
                a52 = k2.fma(b, a52);
                b = FloatVector.broadcast(S, q[q6 + d]);
                a60 = k0.fma(b, a60);
                a61 = k1.fma(b, a61);
                a62 = k2.fma(b, a62);
                b = FloatVector.broadcast(S, q[q7 + d]);
                a70 = k0.fma(b, a70);
                a71 = k1.fma(b, a71);
                a72 = k2.fma(b, a72);
            }
            int r = j0;
            a00.intoArray(scores, r);
            a01.intoArray(scores, r + L);
            a02.intoArray(scores, r + 2 * L);
            r += stride;
            a10.intoArray(scores, r);
            a11.intoArray(scores, r + L);
            a12.intoArray(scores, r + 2 * L);
            r += stride;
            a20.intoArray(scores, r);
            a21.intoArray(scores, r + L);
            a22.intoArray(scores, r + 2 * L);
            r += stride;
            a30.intoArray(scores, r);
            a31.intoArray(scores, r + L);
            a32.intoArray(scores, r + 2 * L);
            r += stride;
            a40.intoArray(scores, r);
            a41.intoArray(scores, r + L);
            a42.intoArray(scores, r + 2 * L);
            r += stride;
            a50.intoArray(scores, r);
            a51.intoArray(scores, r + L);
            a52.intoArray(scores, r + 2 * L);
            r += stride;
            a60.intoArray(scores, r);
            a61.intoArray(scores, r + L);
            a62.intoArray(scores, r + 2 * L);
            r += stride;
            a70.intoArray(scores, r);
            a71.intoArray(scores, r + L);
            a72.intoArray(scores, r + 2 * L);
        }
        for (; j0 < cols; j0 += L) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            for (int d = 0; d < D; d++) {
                FloatVector k = FloatVector.fromArray(S, kT, d * stride + j0);
                a0 = k.fma(FloatVector.broadcast(S, q[q0 + d]), a0);
                a1 = k.fma(FloatVector.broadcast(S, q[q1 + d]), a1);
                a2 = k.fma(FloatVector.broadcast(S, q[q2 + d]), a2);
                a3 = k.fma(FloatVector.broadcast(S, q[q3 + d]), a3);
                a4 = k.fma(FloatVector.broadcast(S, q[q4 + d]), a4);
                a5 = k.fma(FloatVector.broadcast(S, q[q5 + d]), a5);
                a6 = k.fma(FloatVector.broadcast(S, q[q6 + d]), a6);
                a7 = k.fma(FloatVector.broadcast(S, q[q7 + d]), a7);
            }
            a0.intoArray(scores, j0);
            a1.intoArray(scores, stride + j0);
            a2.intoArray(scores, 2 * stride + j0);
            a3.intoArray(scores, 3 * stride + j0);
            a4.intoArray(scores, 4 * stride + j0);
            a5.intoArray(scores, 5 * stride + j0);
            a6.intoArray(scores, 6 * stride + j0);
            a7.intoArray(scores, 7 * stride + j0);
        }
        int foldEnd = n / L * L; // the whole lane-groups (every row sees every key)
        if (foldEnd < 4 * L) return 0; // a few tokens: softmax scans the rows (the fold costs more than it saves)
        Arrays.fill(s.maxBits, 0, 2 * ROWS, Integer.MIN_VALUE);
        foldMaxBits(scores, 0, stride, foldEnd / L, s.maxBits, 0);
        foldMaxBits(scores, ROWS * stride, stride, foldEnd / L, s.maxBits, ROWS);
        return foldEnd;
    }

    /**
     * {@link #scores4}'s scores of its 4 rows for {@code groups} (1-4) lane-groups of keys from j0, as
     * one 4 x groups tile. One
     * method per width: a vector merged across branches, or passed to a method C2 does not inline, is
     * boxed on every call, and one method with all four tiles was too big for C1's register allocator
     * ("out of virtual registers"), so it stayed in C1's code without a profile and never reached C2
     * in the bench (a long-document pass at 0.45x).
     */
    private static void scoresTile(
            float[] q, int q0, int qStride, int D, float[] kT, int stride, int j0, int groups, float[] scores) {
        if (groups == 4) scoresTile4(q, q0, qStride, D, kT, stride, j0, scores);
        else if (groups == 3) scoresTile3(q, q0, qStride, D, kT, stride, j0, scores);
        else if (groups == 2) scoresTile2(q, q0, qStride, D, kT, stride, j0, scores);
        else scoresTile1(q, q0, qStride, D, kT, stride, j0, scores);
    }

    /** {@link #scoresTile} 4 lane-groups wide. */
    private static void scoresTile4(
            float[] q, int q0, int qStride, int D, float[] kT, int stride, int j0, float[] scores) {
        int q1 = q0 + qStride, q2 = q1 + qStride, q3 = q2 + qStride;
        int r0 = j0, r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride;
        FloatVector z = FloatVector.zero(S);
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
        FloatVector a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
        for (int d = 0; d < D; d++) {
            int k = d * stride + j0;
            FloatVector k0 = FloatVector.fromArray(S, kT, k),
                    k1 = FloatVector.fromArray(S, kT, k + L),
                    k2 = FloatVector.fromArray(S, kT, k + 2 * L),
                    k3 = FloatVector.fromArray(S, kT, k + 3 * L);
            FloatVector b = FloatVector.broadcast(S, q[q0 + d]);
            a00 = k0.fma(b, a00);
            a01 = k1.fma(b, a01);
            a02 = k2.fma(b, a02);
            a03 = k3.fma(b, a03);
            b = FloatVector.broadcast(S, q[q1 + d]);
            a10 = k0.fma(b, a10);
            a11 = k1.fma(b, a11);
            a12 = k2.fma(b, a12);
            a13 = k3.fma(b, a13);
            b = FloatVector.broadcast(S, q[q2 + d]);
            a20 = k0.fma(b, a20);
            a21 = k1.fma(b, a21);
            a22 = k2.fma(b, a22);
            a23 = k3.fma(b, a23);
            b = FloatVector.broadcast(S, q[q3 + d]);
            a30 = k0.fma(b, a30);
            a31 = k1.fma(b, a31);
            a32 = k2.fma(b, a32);
            a33 = k3.fma(b, a33);
        }
        a00.intoArray(scores, r0);
        a01.intoArray(scores, r0 + L);
        a02.intoArray(scores, r0 + 2 * L);
        a03.intoArray(scores, r0 + 3 * L);
        a10.intoArray(scores, r1);
        a11.intoArray(scores, r1 + L);
        a12.intoArray(scores, r1 + 2 * L);
        a13.intoArray(scores, r1 + 3 * L);
        a20.intoArray(scores, r2);
        a21.intoArray(scores, r2 + L);
        a22.intoArray(scores, r2 + 2 * L);
        a23.intoArray(scores, r2 + 3 * L);
        a30.intoArray(scores, r3);
        a31.intoArray(scores, r3 + L);
        a32.intoArray(scores, r3 + 2 * L);
        a33.intoArray(scores, r3 + 3 * L);
    }

    /** {@link #scoresTile} 3 lane-groups wide. */
    private static void scoresTile3(
            float[] q, int q0, int qStride, int D, float[] kT, int stride, int j0, float[] scores) {
        int q1 = q0 + qStride, q2 = q1 + qStride, q3 = q2 + qStride;
        int r0 = j0, r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride;
        FloatVector z = FloatVector.zero(S);
        FloatVector a00 = z, a01 = z, a02 = z, a10 = z, a11 = z, a12 = z;
        FloatVector a20 = z, a21 = z, a22 = z, a30 = z, a31 = z, a32 = z;
        for (int d = 0; d < D; d++) {
            int k = d * stride + j0;
            FloatVector k0 = FloatVector.fromArray(S, kT, k),
                    k1 = FloatVector.fromArray(S, kT, k + L),
                    k2 = FloatVector.fromArray(S, kT, k + 2 * L);
            FloatVector b = FloatVector.broadcast(S, q[q0 + d]);
            a00 = k0.fma(b, a00);
            a01 = k1.fma(b, a01);
            a02 = k2.fma(b, a02);
            b = FloatVector.broadcast(S, q[q1 + d]);
            a10 = k0.fma(b, a10);
            a11 = k1.fma(b, a11);
            a12 = k2.fma(b, a12);
            b = FloatVector.broadcast(S, q[q2 + d]);
            a20 = k0.fma(b, a20);
            a21 = k1.fma(b, a21);
            a22 = k2.fma(b, a22);
            b = FloatVector.broadcast(S, q[q3 + d]);
            a30 = k0.fma(b, a30);
            a31 = k1.fma(b, a31);
            a32 = k2.fma(b, a32);
        }
        a00.intoArray(scores, r0);
        a01.intoArray(scores, r0 + L);
        a02.intoArray(scores, r0 + 2 * L);
        a10.intoArray(scores, r1);
        a11.intoArray(scores, r1 + L);
        a12.intoArray(scores, r1 + 2 * L);
        a20.intoArray(scores, r2);
        a21.intoArray(scores, r2 + L);
        a22.intoArray(scores, r2 + 2 * L);
        a30.intoArray(scores, r3);
        a31.intoArray(scores, r3 + L);
        a32.intoArray(scores, r3 + 2 * L);
    }

    /** {@link #scoresTile} 2 lane-groups wide. */
    private static void scoresTile2(
            float[] q, int q0, int qStride, int D, float[] kT, int stride, int j0, float[] scores) {
        int q1 = q0 + qStride, q2 = q1 + qStride, q3 = q2 + qStride;
        int r0 = j0, r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride;
        FloatVector z = FloatVector.zero(S);
        FloatVector a00 = z, a01 = z, a10 = z, a11 = z;
        FloatVector a20 = z, a21 = z, a30 = z, a31 = z;
        for (int d = 0; d < D; d++) {
            int k = d * stride + j0;
            FloatVector k0 = FloatVector.fromArray(S, kT, k), k1 = FloatVector.fromArray(S, kT, k + L);
            FloatVector b = FloatVector.broadcast(S, q[q0 + d]);
            a00 = k0.fma(b, a00);
            a01 = k1.fma(b, a01);
            b = FloatVector.broadcast(S, q[q1 + d]);
            a10 = k0.fma(b, a10);
            a11 = k1.fma(b, a11);
            b = FloatVector.broadcast(S, q[q2 + d]);
            a20 = k0.fma(b, a20);
            a21 = k1.fma(b, a21);
            b = FloatVector.broadcast(S, q[q3 + d]);
            a30 = k0.fma(b, a30);
            a31 = k1.fma(b, a31);
        }
        a00.intoArray(scores, r0);
        a01.intoArray(scores, r0 + L);
        a10.intoArray(scores, r1);
        a11.intoArray(scores, r1 + L);
        a20.intoArray(scores, r2);
        a21.intoArray(scores, r2 + L);
        a30.intoArray(scores, r3);
        a31.intoArray(scores, r3 + L);
    }

    /** {@link #scoresTile} 1 lane-group wide. */
    private static void scoresTile1(
            float[] q, int q0, int qStride, int D, float[] kT, int stride, int j0, float[] scores) {
        int q1 = q0 + qStride, q2 = q1 + qStride, q3 = q2 + qStride;
        int r0 = j0, r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride;
        FloatVector z = FloatVector.zero(S);
        FloatVector a00 = z, a10 = z;
        FloatVector a20 = z, a30 = z;
        for (int d = 0; d < D; d++) {
            int k = d * stride + j0;
            FloatVector k0 = FloatVector.fromArray(S, kT, k);
            FloatVector b = FloatVector.broadcast(S, q[q0 + d]);
            a00 = k0.fma(b, a00);
            b = FloatVector.broadcast(S, q[q1 + d]);
            a10 = k0.fma(b, a10);
            b = FloatVector.broadcast(S, q[q2 + d]);
            a20 = k0.fma(b, a20);
            b = FloatVector.broadcast(S, q[q3 + d]);
            a30 = k0.fma(b, a30);
        }
        a00.intoArray(scores, r0);
        a10.intoArray(scores, r1);
        a20.intoArray(scores, r2);
        a30.intoArray(scores, r3);
    }

    /**
     * maxBits[m + i] = max(maxBits[m + i], the signed-int max of the raw bits of row i's scores in
     * lane-groups 0..groups-1 from r0), for 4 score rows stride apart ({@link #scores4}'s, once all
     * its tiles are stored). From the stored scores (in L1), not the tiles' registers: inline in the
     * 4-wide tile, C2 left some of the fold's Vector API calls unintrinsified (JFR
     * showed the JDK's Java fallback of VectorSupport.convert under it, 1 % of a long-document
     * pass), most likely as the tile's inlined templates used up its inlining budget.
     */
    private static void foldMaxBits(float[] scores, int r0, int stride, int groups, int[] maxBits, int m) {
        for (int i = 0; i < ROWS; i++) {
            int r = r0 + i * stride;
            IntVector bits = FloatVector.fromArray(S, scores, r).reinterpretAsInts();
            for (int g = 1; g < groups; g++)
                bits = bits.max(FloatVector.fromArray(S, scores, r + g * L).reinterpretAsInts());
            maxBits[m + i] = Math.max(maxBits[m + i], bits.reduceLanes(VectorOperators.MAX));
        }
    }

    /** Raw scores of one query row: the same chains as {@link #scores4}, 4 lane-groups at a time for latency. */
    private static void scores1(float[] q, int q0, int D, float[] kT, int stride, int cols, float[] scores) {
        int j0 = 0;
        for (; j0 + 4 * L <= cols; j0 += 4 * L) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int d = 0; d < D; d++) {
                int k = d * stride + j0;
                FloatVector b = FloatVector.broadcast(S, q[q0 + d]);
                a0 = FloatVector.fromArray(S, kT, k).fma(b, a0);
                a1 = FloatVector.fromArray(S, kT, k + L).fma(b, a1);
                a2 = FloatVector.fromArray(S, kT, k + 2 * L).fma(b, a2);
                a3 = FloatVector.fromArray(S, kT, k + 3 * L).fma(b, a3);
            }
            a0.intoArray(scores, j0);
            a1.intoArray(scores, j0 + L);
            a2.intoArray(scores, j0 + 2 * L);
            a3.intoArray(scores, j0 + 3 * L);
        }
        for (; j0 < cols; j0 += L) {
            FloatVector a = FloatVector.zero(S);
            for (int d = 0; d < D; d++)
                a = FloatVector.fromArray(S, kT, d * stride + j0).fma(FloatVector.broadcast(S, q[q0 + d]), a);
            a.intoArray(scores, j0);
        }
    }

    /**
     * Rows 0..rows-1 of raw scores s (row r sees keys 0..seen[r]-1 of cols) to p = e^(s·scaling -
     * max) in place, the other keys 0, and inv[r] = 1 / Σp (lane-wise over blocks in order, then
     * lanes by a fixed tree). The scale goes into the exponent's fma: scaling &gt; 0 and rounding is
     * monotonic, so the max of the raw scores, scaled, is the max of the scaled ones: one pass fewer.
     * A row that sees no key is left alone (inv 0). The max: the signed-int max of the raw bits over
     * the row (with folded &gt; 0, s.maxBits holds it over keys 0..folded-1 and only the rest is
     * scanned), exact where non-negative (see {@link #scores4}); else, every seen score negative, the
     * float max over the row.
     */
    private static void softmax(int rows, int stride, int cols, int folded, float scaling, Scratch s) {
        float[] scores = s.scores;
        for (int r = 0; r < rows; r++) {
            int base = r * stride, seen = s.seen[r];
            if (seen == 0) {
                s.inv[r] = 0f;
                continue;
            }
            // hidden and padded keys to -inf a lane-group at a time, same bits: Arrays.fill (or a scalar
            // loop) there cost MiniLM's attention 14-17 % at 14 tokens and 6-8 % at 41, most likely as
            // its 4-byte stores, still pending, stall the row's 64-byte loads that follow them
            for (int j0 = seen / L * L; j0 < cols; j0 += L) {
                FloatVector.fromArray(S, scores, base + j0)
                        .blend(Float.NEGATIVE_INFINITY, LANE.compare(VectorOperators.GE, (float) (seen - j0)))
                        .intoArray(scores, base + j0);
            }
            boolean fold = folded > 0 && s.maxBits[r] >= 0; // exact only where non-negative (see scores4)
            float max = maxOf(scores, base + (fold ? folded : 0), base + cols); // -inf if the fold covered all
            if (fold) max = Math.max(max, Float.intBitsToFloat(s.maxBits[r]));
            // fma(s, scaling, -(max·scaling)) is at most half an ulp of max·scaling above 0: inside
            // expSum's range (up to 88.7) while |max·scaling| < 2^31; exp(-inf) = 0
            s.inv[r] = 1f / VectorExp.expSum(scores, base, base + cols, scaling, -(max * scaling), scores);
        }
    }

    /**
     * The float max of scores[from..to) (whole lane-groups; -inf when empty), exact in any order:
     * each lane-group reduced on its own and the running max kept as a float. A running max vector
     * carried by the loop was left boxed by C2 in some JVMs (JFR allocation samples after warm-up:
     * the Vector API's Java fallbacks allocating gigabytes here, ~16 KiB a token on short texts, in
     * 1 of 5 JVMs; on long rows, in 3 of 11); a float phi cannot be. Long rows scan only the keys
     * past {@link #scores4}'s fold (0 or 1 lane-group), short rows (no fold) all of theirs: 2 or 3
     * lane-groups (17-48 keys) as straight-line code, one lane-wise max per group and one reduction
     * (no vector crosses a branch or a loop), where a reduction per group was 17 % of MiniLM's
     * attention at 41 tokens. With {@link #scores8}: that attention 0.88x the time, whole passes on
     * 3,000 short texts 0.978x / 0.980x (two JVMs, 16 alternated rounds each), the same bits.
     */
    static float maxOf(float[] scores, int from, int to) {
        int groups = (to - from) / L;
        if (groups == 3) {
            return FloatVector.fromArray(S, scores, from)
                    .max(FloatVector.fromArray(S, scores, from + L))
                    .max(FloatVector.fromArray(S, scores, from + 2 * L))
                    .reduceLanes(VectorOperators.MAX);
        }
        if (groups == 2) {
            return FloatVector.fromArray(S, scores, from)
                    .max(FloatVector.fromArray(S, scores, from + L))
                    .reduceLanes(VectorOperators.MAX);
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int j = from; j < to; j += L)
            max = Math.max(max, FloatVector.fromArray(S, scores, j).reduceLanes(VectorOperators.MAX));
        return max;
    }

    /** tile (4, Dp) dims d0..d0+2L of P·V for 4 rows of p: one chain per element over keys 0..n-1. */
    private static void pv4x2(float[] v, int n, int Dp, int d0, float[] p, int stride, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z;
        int p1 = stride, p2 = 2 * stride, p3 = 3 * stride;
        for (int j = 0; j < n; j++) {
            int o = j * Dp + d0;
            FloatVector v0 = FloatVector.fromArray(S, v, o), v1 = FloatVector.fromArray(S, v, o + L);
            FloatVector b = FloatVector.broadcast(S, p[j]);
            a00 = v0.fma(b, a00);
            a01 = v1.fma(b, a01);
            b = FloatVector.broadcast(S, p[p1 + j]);
            a10 = v0.fma(b, a10);
            a11 = v1.fma(b, a11);
            b = FloatVector.broadcast(S, p[p2 + j]);
            a20 = v0.fma(b, a20);
            a21 = v1.fma(b, a21);
            b = FloatVector.broadcast(S, p[p3 + j]);
            a30 = v0.fma(b, a30);
            a31 = v1.fma(b, a31);
        }
        a00.intoArray(tile, d0);
        a01.intoArray(tile, d0 + L);
        a10.intoArray(tile, Dp + d0);
        a11.intoArray(tile, Dp + d0 + L);
        a20.intoArray(tile, 2 * Dp + d0);
        a21.intoArray(tile, 2 * Dp + d0 + L);
        a30.intoArray(tile, 3 * Dp + d0);
        a31.intoArray(tile, 3 * Dp + d0 + L);
    }

    /**
     * tile (4, Dp) dims d0..d0+4L of P·V for 4 rows of p: 16 accumulators, 4 value loads and 4
     * broadcasts a key where two {@link #pv4x2} calls load 4 values and 8 broadcasts; the same
     * chains. Heads of 64 dims and more (Llama's causal prefill): at Llama-3.2-1B's shapes (32
     * query heads over 8 kv heads, 64 dims), one causal 2,048-token sequence on 2 threads, the
     * attention 0.878-0.891x the time (in-JVM alternation, both load orders), 0.969x at 512 tokens;
     * the same bits.
     */
    private static void pv4x4(float[] v, int n, int Dp, int d0, float[] p, int stride, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
        FloatVector a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
        int p1 = stride, p2 = 2 * stride, p3 = 3 * stride;
        for (int j = 0; j < n; j++) {
            int o = j * Dp + d0;
            FloatVector v0 = FloatVector.fromArray(S, v, o),
                    v1 = FloatVector.fromArray(S, v, o + L),
                    v2 = FloatVector.fromArray(S, v, o + 2 * L),
                    v3 = FloatVector.fromArray(S, v, o + 3 * L);
            FloatVector b = FloatVector.broadcast(S, p[j]);
            a00 = v0.fma(b, a00);
            a01 = v1.fma(b, a01);
            a02 = v2.fma(b, a02);
            a03 = v3.fma(b, a03);
            b = FloatVector.broadcast(S, p[p1 + j]);
            a10 = v0.fma(b, a10);
            a11 = v1.fma(b, a11);
            a12 = v2.fma(b, a12);
            a13 = v3.fma(b, a13);
            b = FloatVector.broadcast(S, p[p2 + j]);
            a20 = v0.fma(b, a20);
            a21 = v1.fma(b, a21);
            a22 = v2.fma(b, a22);
            a23 = v3.fma(b, a23);
            b = FloatVector.broadcast(S, p[p3 + j]);
            a30 = v0.fma(b, a30);
            a31 = v1.fma(b, a31);
            a32 = v2.fma(b, a32);
            a33 = v3.fma(b, a33);
        }
        a00.intoArray(tile, d0);
        a01.intoArray(tile, d0 + L);
        a02.intoArray(tile, d0 + 2 * L);
        a03.intoArray(tile, d0 + 3 * L);
        a10.intoArray(tile, Dp + d0);
        a11.intoArray(tile, Dp + d0 + L);
        a12.intoArray(tile, Dp + d0 + 2 * L);
        a13.intoArray(tile, Dp + d0 + 3 * L);
        a20.intoArray(tile, 2 * Dp + d0);
        a21.intoArray(tile, 2 * Dp + d0 + L);
        a22.intoArray(tile, 2 * Dp + d0 + 2 * L);
        a23.intoArray(tile, 2 * Dp + d0 + 3 * L);
        a30.intoArray(tile, 3 * Dp + d0);
        a31.intoArray(tile, 3 * Dp + d0 + L);
        a32.intoArray(tile, 3 * Dp + d0 + 2 * L);
        a33.intoArray(tile, 3 * Dp + d0 + 3 * L);
    }

    /** tile (8, Dp) dims d0..d0+2L of P·V for 8 rows of p: 16 accumulators, the same chains as {@link #pv4x2}. */
    private static void pv8x2(float[] v, int n, int Dp, int d0, float[] p, int stride, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z;
        FloatVector a40 = z, a41 = z, a50 = z, a51 = z, a60 = z, a61 = z, a70 = z, a71 = z;
        int p1 = stride,
                p2 = 2 * stride,
                p3 = 3 * stride,
                p4 = 4 * stride,
                p5 = 5 * stride,
                p6 = 6 * stride,
                p7 = 7 * stride;
        for (int j = 0; j < n; j++) {
            int o = j * Dp + d0;
            FloatVector v0 = FloatVector.fromArray(S, v, o), v1 = FloatVector.fromArray(S, v, o + L);
            FloatVector b = FloatVector.broadcast(S, p[j]);
            a00 = v0.fma(b, a00);
            a01 = v1.fma(b, a01);
            b = FloatVector.broadcast(S, p[p1 + j]);
            a10 = v0.fma(b, a10);
            a11 = v1.fma(b, a11);
            b = FloatVector.broadcast(S, p[p2 + j]);
            a20 = v0.fma(b, a20);
            a21 = v1.fma(b, a21);
            b = FloatVector.broadcast(S, p[p3 + j]);
            a30 = v0.fma(b, a30);
            a31 = v1.fma(b, a31);
            b = FloatVector.broadcast(S, p[p4 + j]);
            a40 = v0.fma(b, a40);
            a41 = v1.fma(b, a41);
            b = FloatVector.broadcast(S, p[p5 + j]);
            a50 = v0.fma(b, a50);
            a51 = v1.fma(b, a51);
            b = FloatVector.broadcast(S, p[p6 + j]);
            a60 = v0.fma(b, a60);
            a61 = v1.fma(b, a61);
            b = FloatVector.broadcast(S, p[p7 + j]);
            a70 = v0.fma(b, a70);
            a71 = v1.fma(b, a71);
        }
        a00.intoArray(tile, d0);
        a01.intoArray(tile, d0 + L);
        a10.intoArray(tile, Dp + d0);
        a11.intoArray(tile, Dp + d0 + L);
        a20.intoArray(tile, 2 * Dp + d0);
        a21.intoArray(tile, 2 * Dp + d0 + L);
        a30.intoArray(tile, 3 * Dp + d0);
        a31.intoArray(tile, 3 * Dp + d0 + L);
        a40.intoArray(tile, 4 * Dp + d0);
        a41.intoArray(tile, 4 * Dp + d0 + L);
        a50.intoArray(tile, 5 * Dp + d0);
        a51.intoArray(tile, 5 * Dp + d0 + L);
        a60.intoArray(tile, 6 * Dp + d0);
        a61.intoArray(tile, 6 * Dp + d0 + L);
        a70.intoArray(tile, 7 * Dp + d0);
        a71.intoArray(tile, 7 * Dp + d0 + L);
    }

    /** {@link #pv4x2} for one lane-group of dims (the last of an odd count), rows of p from p0, of the tile from t. */
    private static void pv4x1(float[] v, int n, int Dp, int d0, float[] p, int p0, int stride, float[] tile, int t) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        for (int j = 0; j < n; j++) {
            FloatVector x = FloatVector.fromArray(S, v, j * Dp + d0);
            a0 = x.fma(FloatVector.broadcast(S, p[p0 + j]), a0);
            a1 = x.fma(FloatVector.broadcast(S, p[p0 + stride + j]), a1);
            a2 = x.fma(FloatVector.broadcast(S, p[p0 + 2 * stride + j]), a2);
            a3 = x.fma(FloatVector.broadcast(S, p[p0 + 3 * stride + j]), a3);
        }
        a0.intoArray(tile, t + d0);
        a1.intoArray(tile, t + Dp + d0);
        a2.intoArray(tile, t + 2 * Dp + d0);
        a3.intoArray(tile, t + 3 * Dp + d0);
    }

    /** tile (1, Dp) of P·V for one row of p: the same chains as {@link #pv4x2}. */
    private static void pv1(float[] v, int n, int Dp, float[] p, float[] tile) {
        for (int d0 = 0; d0 < Dp; d0 += L) {
            FloatVector a = FloatVector.zero(S);
            for (int j = 0; j < n; j++)
                a = FloatVector.fromArray(S, v, j * Dp + d0).fma(FloatVector.broadcast(S, p[j]), a);
            a.intoArray(tile, d0);
        }
    }

    /** D floats of out at first, first + width, ... (rows of them) = tile · inv. */
    private static void write(int rows, int first, int width, int D, int Dp, Scratch s, float[] out) {
        for (int r = 0; r < rows; r++) {
            int o = first + r * width, t = r * Dp;
            float inv = s.inv[r];
            int d = 0;
            for (; d + L <= D; d += L)
                FloatVector.fromArray(S, s.tile, t + d).mul(inv).intoArray(out, o + d);
            for (; d < D; d++) out[o + d] = s.tile[t + d] * inv;
        }
    }
}
