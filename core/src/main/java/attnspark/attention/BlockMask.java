package attnspark.attention;

import attnspark.kernels.Parallel;
import java.util.Arrays;

/**
 * torch.nn.attention.flex_attention's {@code BlockMask}: the (q, kv) plane cut into
 * {@code blockSize x blockSize} tiles, each classified once by evaluating the mask mod over it:
 * <ul>
 *   <li>{@link BlockType#EMPTY}: nothing attends; the kernel never visits it;</li>
 *   <li>{@link BlockType#FULL}: every entry attends; visited without evaluating the mask mod;</li>
 *   <li>{@link BlockType#PARTIAL}: mixed; visited, and the mask mod decides per element.</li>
 * </ul>
 * Per (batch, head, q-block) it keeps the ascending kv-block indices of the partial blocks
 * ({@code kv_num_blocks}/{@code kv_indices}) and of the full blocks
 * ({@code full_kv_num_blocks}/{@code full_kv_indices}), as torch does.
 *
 * <p>Lengths need not be multiples of the block size (torch flex_attention bugs pytorch/pytorch#153799, #159247): the last q/kv block is
 * short and only its in-range entries are classified. <b>Deviation from torch:</b> torch pads
 * the dense mask with False up to a multiple of the block size, so its edge blocks are never
 * FULL; here an edge block whose in-range entries all attend is FULL (the kernel bounds-checks
 * anyway). The attention result is the same; only the full/partial split of edge blocks differs.
 *
 * <p>Batch 1 or heads {@code null} (stored as 1) broadcast over the attention call's batch or
 * heads, as torch's {@code B=None}/{@code H=None}; the mask mod is then classified with index 0
 * but called with the real batch/head for partial blocks, exactly like torch.
 *
 * <p>{@link #equals} compares the geometry and the block classification (not the mask mod,
 * which is a function): two masks are equal when they visit the same blocks the same way.
 */
public final class BlockMask implements AttentionMask {
    /** torch's {@code _DEFAULT_SPARSE_BLOCK_SIZE}; HF never passes another. */
    public static final int DEFAULT_BLOCK_SIZE = 128;

    public enum BlockType {
        EMPTY(' '),
        PARTIAL('░'),
        FULL('█');

        /** The character torch's {@code to_string} draws (doubled) for such a block. */
        public final char glyph;

        BlockType(char glyph) {
            this.glyph = glyph;
        }
    }

    private final int batch;
    private final int heads;
    private final boolean headsBroadcast;
    private final int qLength;
    private final int kvLength;
    private final int blockSize;
    private final int numQBlocks;
    private final int numKvBlocks;
    private final MaskFunction maskMod;
    /** [(b * heads + h) * numQBlocks + qb] -> ascending kv-block indices. */
    private final int[][] kvIndices;

    private final int[][] fullKvIndices;

    private BlockMask(
            int batch,
            int heads,
            boolean headsBroadcast,
            int qLength,
            int kvLength,
            int blockSize,
            MaskFunction maskMod,
            int[][] kvIndices,
            int[][] fullKvIndices) {
        this.batch = batch;
        this.heads = heads;
        this.headsBroadcast = headsBroadcast;
        this.qLength = qLength;
        this.kvLength = kvLength;
        this.blockSize = blockSize;
        this.numQBlocks = ceilDiv(qLength, blockSize);
        this.numKvBlocks = ceilDiv(kvLength, blockSize);
        this.maskMod = maskMod;
        this.kvIndices = kvIndices;
        this.fullKvIndices = fullKvIndices;
    }

    /** {@link #create(MaskFunction, int, Integer, int, int, int)} with block size 128. */
    public static BlockMask create(MaskFunction maskMod, int B, Integer H, int qLen, int kvLen) {
        return create(maskMod, B, H, qLen, kvLen, DEFAULT_BLOCK_SIZE);
    }

    /**
     * torch's {@code create_block_mask(mask_mod, B, H, Q_LEN, KV_LEN, BLOCK_SIZE)}.
     *
     * @param maskMod   (b, h, q, kv) -> attend; q/kv are indices into the query/key tensors. Must be pure:
     *                  it is evaluated from several threads, here and again inside partial blocks by the kernel
     * @param B         batch of the mask (1 broadcasts over any batch)
     * @param H         heads of the mask, or null to broadcast over heads (HF passes null)
     * @param blockSize tile edge for both q and kv
     */
    public static BlockMask create(MaskFunction maskMod, int B, Integer H, int qLen, int kvLen, int blockSize) {
        if (maskMod == null) throw new IllegalArgumentException("mask_mod must not be null");
        if (B < 1) throw new IllegalArgumentException("B must be >= 1, got " + B);
        if (H != null && H < 1) throw new IllegalArgumentException("H must be >= 1 or null, got " + H);
        if (qLen < 0 || kvLen < 0)
            throw new IllegalArgumentException("negative length: Q_LEN=" + qLen + ", KV_LEN=" + kvLen);
        if (blockSize < 1) throw new IllegalArgumentException("BLOCK_SIZE must be >= 1, got " + blockSize);
        int heads = H == null ? 1 : H;
        int nq = ceilDiv(qLen, blockSize), nkv = ceilDiv(kvLen, blockSize);
        int[][] partial = new int[B * heads * nq][];
        int[][] full = new int[B * heads * nq][];
        Parallel.forRange(B * heads * nq, 1, (from, to) -> {
            int[] p = new int[nkv], f = new int[nkv];
            for (int unit = from; unit < to; unit++) {
                int qb = unit % nq, bh = unit / nq, h = bh % heads, b = bh / heads;
                int q0 = qb * blockSize, q1 = Math.min(qLen, q0 + blockSize);
                int np = 0, nf = 0;
                for (int kb = 0; kb < nkv; kb++) {
                    int k0 = kb * blockSize, k1 = Math.min(kvLen, k0 + blockSize);
                    BlockType t = classify(maskMod, b, h, q0, q1, k0, k1);
                    if (t == BlockType.PARTIAL) p[np++] = kb;
                    else if (t == BlockType.FULL) f[nf++] = kb;
                }
                partial[unit] = Arrays.copyOf(p, np);
                full[unit] = Arrays.copyOf(f, nf);
            }
        });
        return new BlockMask(B, heads, H == null, qLen, kvLen, blockSize, maskMod, partial, full);
    }

    /** A block mask over a materialised (B, 1, Sq, Skv) mask, e.g. what {@code sdpa_mask} returns. */
    public static BlockMask fromBooleanMask(BooleanMask mask, int blockSize) {
        return create(
                (b, h, q, kv) -> mask.get(b, q, kv), mask.batch(), null, mask.qLength(), mask.kvLength(), blockSize);
    }

    /** A block mask over a dense [b][q][kv] mask shared by all heads. */
    public static BlockMask fromDense(boolean[][][] mask, int blockSize) {
        int B = mask.length, Sq = B == 0 ? 0 : mask[0].length, Skv = Sq == 0 ? 0 : mask[0][0].length;
        return create((b, h, q, kv) -> mask[b][q][kv], B, null, Sq, Skv, blockSize);
    }

    private static BlockType classify(MaskFunction f, int b, int h, int q0, int q1, int k0, int k1) {
        boolean anyTrue = false, anyFalse = false;
        for (int q = q0; q < q1; q++) {
            for (int kv = k0; kv < k1; kv++) {
                if (f.test(b, h, q, kv)) anyTrue = true;
                else anyFalse = true;
                if (anyTrue && anyFalse) return BlockType.PARTIAL;
            }
        }
        return anyTrue ? BlockType.FULL : BlockType.EMPTY;
    }

    public static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    // ----------------------------------------------------------------------------- geometry

    public int batch() {
        return batch;
    }

    /** 1 when created with {@code H = null}. */
    public int heads() {
        return heads;
    }

    public boolean headsBroadcast() {
        return headsBroadcast;
    }

    public int qLength() {
        return qLength;
    }

    public int kvLength() {
        return kvLength;
    }

    public int blockSize() {
        return blockSize;
    }

    public int numQBlocks() {
        return numQBlocks;
    }

    public int numKvBlocks() {
        return numKvBlocks;
    }

    /** The mask mod partial blocks consult per element. */
    public MaskFunction maskMod() {
        return maskMod;
    }

    // ----------------------------------------------------------------------------- blocks

    private int unit(int b, int h, int qb) {
        if (b < 0 || b >= batch || h < 0 || h >= heads || qb < 0 || qb >= numQBlocks) {
            throw new IndexOutOfBoundsException(
                    "(b=" + b + ", h=" + h + ", q_block=" + qb + ") outside " + shapeString());
        }
        return (b * heads + h) * numQBlocks + qb;
    }

    /** torch's {@code kv_num_blocks[b, h, qb]}: how many PARTIAL kv blocks this q block visits. */
    public int kvNumBlocks(int b, int h, int qb) {
        return kvIndices[unit(b, h, qb)].length;
    }

    /** torch's {@code kv_indices[b, h, qb, :kv_num_blocks]}: the PARTIAL kv blocks, ascending. */
    public int[] kvIndices(int b, int h, int qb) {
        return kvIndices[unit(b, h, qb)].clone();
    }

    /** torch's {@code full_kv_num_blocks[b, h, qb]}. */
    public int fullKvNumBlocks(int b, int h, int qb) {
        return fullKvIndices[unit(b, h, qb)].length;
    }

    /** torch's {@code full_kv_indices[b, h, qb, :full_kv_num_blocks]}: the FULL kv blocks, ascending. */
    public int[] fullKvIndices(int b, int h, int qb) {
        return fullKvIndices[unit(b, h, qb)].clone();
    }

    /** No copy, for the flex kernel. Indices are of the mask's own (possibly broadcast) batch and head. */
    public int[] partialRef(int b, int h, int qb) {
        return kvIndices[(b * heads + h) * numQBlocks + qb];
    }

    /** No copy, for the flex kernel: the FULL kv blocks, as {@link #partialRef}. */
    public int[] fullRef(int b, int h, int qb) {
        return fullKvIndices[(b * heads + h) * numQBlocks + qb];
    }

    public BlockType blockType(int b, int h, int qb, int kb) {
        int u = unit(b, h, qb);
        if (kb < 0 || kb >= numKvBlocks) throw new IndexOutOfBoundsException("kv block " + kb + " of " + numKvBlocks);
        if (Arrays.binarySearch(fullKvIndices[u], kb) >= 0) return BlockType.FULL;
        if (Arrays.binarySearch(kvIndices[u], kb) >= 0) return BlockType.PARTIAL;
        return BlockType.EMPTY;
    }

    /** Whether query q may attend key kv, as the kernel decides it (block type first, then the mask mod). */
    public boolean allows(int b, int h, int q, int kv) {
        if (q < 0 || q >= qLength || kv < 0 || kv >= kvLength) return false;
        int mb = batch == 1 ? 0 : b, mh = heads == 1 ? 0 : h;
        return switch (blockType(mb, mh, q / blockSize, kv / blockSize)) {
            case FULL -> true;
            case EMPTY -> false;
            case PARTIAL -> maskMod.test(b, h, q, kv);
        };
    }

    /** Blocks that will be visited (partial + full) over all batches and heads of the mask. */
    public long nonEmptyBlocks() {
        long n = 0;
        for (int u = 0; u < kvIndices.length; u++) n += kvIndices[u].length + fullKvIndices[u].length;
        return n;
    }

    /** torch's {@code sparsity()}: percentage of blocks that are skipped. */
    public double sparsity() {
        long total = (long) batch * heads * numQBlocks * numKvBlocks;
        return total == 0 ? 0 : 100.0 * (1 - (double) nonEmptyBlocks() / total);
    }

    @Override
    public String describe() {
        return "BlockMask " + shapeString();
    }

    public String shapeString() {
        return "(" + batch + ", " + (headsBroadcast ? "1*" : String.valueOf(heads)) + ", " + qLength + ", " + kvLength
                + ") in blocks of " + blockSize;
    }

    // ----------------------------------------------------------------------------- printing, equality

    /** torch's {@code to_string()}: a grid of at most 20x20 cells, the first 4 (batch, head) pairs. */
    @Override
    public String toString() {
        return toString(20, 4);
    }

    /**
     * torch's {@code to_string(grid_size, limit)}; {@code gridSize = -1} draws one cell per block.
     * A cell covering several blocks (compressed grid) shows FULL only if all are full, EMPTY only
     * if all are empty, else PARTIAL. Unlike torch (whose {@code to_dense} merges full and partial
     * blocks, so every non-empty block prints as full), a single partial block prints as '░'.
     */
    public String toString(int gridSize, int limit) {
        int maxRows = gridSize == -1 ? numQBlocks : gridSize, maxCols = gridSize == -1 ? numKvBlocks : gridSize;
        int rowStep = Math.max(1, ceilDiv(numQBlocks, Math.max(1, maxRows)));
        int colStep = Math.max(1, ceilDiv(numKvBlocks, Math.max(1, maxCols)));
        StringBuilder sb = new StringBuilder();
        int idx = 0;
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++, idx++) {
                if (idx > 0) sb.append('\n');
                if (idx == limit) {
                    sb.append("...\nTo print out more, set BlockMask.toString(gridSize, limit=N)");
                    return sb.toString();
                }
                sb.append('(').append(b).append(", ").append(h).append(")\n");
                for (int r = 0; r < numQBlocks; r += rowStep) {
                    for (int c = 0; c < numKvBlocks; c += colStep) {
                        boolean allFull = true, allEmpty = true;
                        for (int qb = r; qb < Math.min(numQBlocks, r + rowStep); qb++) {
                            for (int kb = c; kb < Math.min(numKvBlocks, c + colStep); kb++) {
                                BlockType t = blockType(b, h, qb, kb);
                                allFull &= t == BlockType.FULL;
                                allEmpty &= t == BlockType.EMPTY;
                            }
                        }
                        char g = allFull
                                ? BlockType.FULL.glyph
                                : allEmpty ? BlockType.EMPTY.glyph : BlockType.PARTIAL.glyph;
                        sb.append(g).append(g);
                    }
                    sb.append('\n');
                }
            }
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) return true;
        if (!(o instanceof BlockMask m)) return false;
        return batch == m.batch
                && heads == m.heads
                && qLength == m.qLength
                && kvLength == m.kvLength
                && blockSize == m.blockSize
                && Arrays.deepEquals(kvIndices, m.kvIndices)
                && Arrays.deepEquals(fullKvIndices, m.fullKvIndices);
    }

    @Override
    public int hashCode() {
        int h = Arrays.hashCode(new int[] {batch, heads, qLength, kvLength, blockSize});
        return 31 * (31 * h + Arrays.deepHashCode(kvIndices)) + Arrays.deepHashCode(fullKvIndices);
    }
}
