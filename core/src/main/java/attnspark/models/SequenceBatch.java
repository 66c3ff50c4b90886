package attnspark.models;

import attnspark.batch.TokenBatch;
import attnspark.tensor.FloatTensor;

/**
 * A batch of token sequences kept packed: activations are (T, width) with T = Σ lengths, so
 * every linear layer runs one large gemm without padding. Only attention sees the padded
 * (B, H, Smax, D) layout, with a right-padding mask.
 */
public final class SequenceBatch {
    public final int[][] ids; // (B, L_b)
    public final int[] offsets; // (B+1): sequence b is rows offsets[b] .. offsets[b+1]-1
    public final int batch;
    public final int maxLength;
    public final int totalTokens;
    /** (B): position of each row's first token; all 0 for a fresh forward, the cache length when continuing one. */
    public final int[] startPositions;

    public SequenceBatch(int[][] ids) {
        this(ids, null);
    }

    /** @param startPositions per row, the absolute position of its first token (null = all 0) */
    public SequenceBatch(int[][] ids, int[] startPositions) {
        if (startPositions != null && startPositions.length != ids.length) {
            throw new IllegalArgumentException(
                    "startPositions has " + startPositions.length + " entries for " + ids.length + " sequences");
        }
        this.startPositions = startPositions == null ? new int[ids.length] : startPositions.clone();
        this.ids = ids;
        this.batch = ids.length;
        this.offsets = new int[batch + 1];
        int max = 0;
        for (int b = 0; b < batch; b++) {
            offsets[b + 1] = offsets[b] + ids[b].length;
            max = Math.max(max, ids[b].length);
        }
        this.maxLength = max;
        this.totalTokens = offsets[batch];
    }

    /**
     * The adapter for a model whose forward still takes per-row arrays: copies each sequence of an
     * Arrow {@link TokenBatch} out, with its start position. Models that read the batch in place
     * override {@link TransformerModel#forward(TokenBatch, java.util.Map)} instead.
     */
    public static SequenceBatch of(TokenBatch batch) {
        int n = batch.numSequences();
        int[][] ids = new int[n][];
        int[] starts = new int[n];
        for (int s = 0; s < n; s++) {
            ids[s] = batch.sequenceIds(s);
            starts[s] = batch.startPosition(s);
        }
        return new SequenceBatch(ids, starts);
    }

    public int length(int b) {
        return offsets[b + 1] - offsets[b];
    }

    /** (B, Smax) true = real token; null when every sequence has the full length. */
    public boolean[][] paddingMask() {
        boolean any = false;
        for (int b = 0; b < batch; b++) any |= length(b) != maxLength;
        if (!any) return null;
        boolean[][] m = new boolean[batch][maxLength];
        for (int b = 0; b < batch; b++) for (int s = 0; s < length(b); s++) m[b][s] = true;
        return m;
    }

    /** (B, Smax): start..start+L_b-1, padding slots continue counting (they are masked anyway). */
    public int[][] positionIds() {
        int[][] p = new int[batch][maxLength];
        for (int b = 0; b < batch; b++) for (int s = 0; s < maxLength; s++) p[b][s] = startPositions[b] + s;
        return p;
    }

    /** The smallest position any row starts at. */
    public int firstPosition() {
        int min = Integer.MAX_VALUE;
        for (int p : startPositions) min = Math.min(min, p);
        return batch == 0 ? 0 : min;
    }

    /** One past the largest position any slot (padding included) takes: the RoPE table size needed. */
    public int positionLimit() {
        int lim = 0;
        for (int b = 0; b < batch; b++) lim = Math.max(lim, startPositions[b] + maxLength);
        return lim;
    }

    /** True when some row continues from a cached prefix. */
    public boolean continuesCache() {
        for (int p : startPositions) if (p != 0) return true;
        return false;
    }

    /**
     * Gathers heads from packed rows: x (T, rowStride), head h of token t at
     * column colOffset + h·headDim. Returns (B, heads, Smax, headDim), zero at padding.
     */
    public FloatTensor toHeads(float[] x, int rowStride, int colOffset, int heads, int headDim) {
        float[] out = new float[batch * heads * maxLength * headDim];
        for (int b = 0; b < batch; b++) {
            for (int s = 0; s < length(b); s++) {
                int src = (offsets[b] + s) * rowStride + colOffset;
                for (int h = 0; h < heads; h++) {
                    System.arraycopy(x, src + h * headDim, out, ((b * heads + h) * maxLength + s) * headDim, headDim);
                }
            }
        }
        return new FloatTensor(out, batch, heads, maxLength, headDim);
    }

    /** Scatters attention output (B, Smax, H, D) back to packed rows (T, H·D), dropping padding. */
    public float[] fromHeads(FloatTensor attn) {
        int H = attn.dim(2), D = attn.dim(3), width = H * D;
        float[] out = new float[totalTokens * width];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(attn.data, b * maxLength * width, out, offsets[b] * width, length(b) * width);
        }
        return out;
    }
}
