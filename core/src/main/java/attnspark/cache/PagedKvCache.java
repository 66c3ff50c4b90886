package attnspark.cache;

import attnspark.tensor.FloatTensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A paged KV cache (HF continuous batching {@code PagedAttentionCache}): per layer, K and V
 * live in {@code numPages} fixed pages of {@code blockSize} token slots, each slot holding
 * (Hkv, D) floats. A free-page pool of fixed capacity hands pages to sequences; each sequence
 * has a block table (its physical page ids in logical order), so logical token {@code i} of a
 * sequence lives at physical slot {@code table[i / bs] * bs + i % bs}.
 *
 * <p>Storage is slot-major: layer {@code l} holds {@code float[numPages * bs * Hkv * D]} for K and
 * for V, slot {@code p} at {@code p * Hkv * D}, so writing a token is one copy of Hkv·D floats.
 *
 * <p>Lengths are tracked per layer: a forward writes layer 0 first and layer L-1 last, and
 * each layer's attention must see its own history, so {@link #length(int, int)} is what the
 * paged attention functions use as the write position. {@link #length(int)} is the number of
 * tokens cached in every layer.
 *
 * <p><b>Thread safety:</b> thread-safe for concurrent sequences. Page allocation, freeing and
 * block-table / length bookkeeping are atomic (one monitor). Data copies ({@link #write},
 * {@link #read}) run outside the monitor on a snapshot of the sequence's table; pages of a live
 * sequence are never handed to another one, so different sequences can be written and read in
 * parallel. Ordering reads and writes of the <i>same</i> sequence, and not freeing a sequence
 * while it is being read, is the caller's job (as in HF, where one scheduler step owns it).
 */
public final class PagedKvCache {
    /** A gathered range of one sequence: key and value, each (Hkv, n, D). */
    public record Gathered(FloatTensor key, FloatTensor value) {}

    private static final int RELEASED = -1;

    private final int layers;
    private final int numPages;
    private final int blockSize;
    private final int kvHeads;
    private final int headDim;
    private final int slotWidth; // Hkv * D
    private final float[][] keys; // [layer] (numPages * bs, Hkv, D)
    private final float[][] values;

    private final ArrayDeque<Integer> free = new ArrayDeque<>();
    private final Map<Integer, Seq> seqs = new HashMap<>();

    private static final class Seq {
        final List<Integer> table = new ArrayList<>();
        final int[] lengths; // per layer: tokens written (contiguous from the first live one)
        int releasedPages; // leading table entries given back by releaseBefore

        Seq(int layers) {
            lengths = new int[layers];
        }
    }

    /**
     * @param layers    number of decoder layers (each has its own K and V pages)
     * @param numPages  capacity of the page pool, shared by all sequences
     * @param blockSize tokens per page (HF default 32; 16 is common)
     * @param kvHeads   key/value heads (Hkv)
     * @param headDim   head dimension (D)
     */
    public PagedKvCache(int layers, int numPages, int blockSize, int kvHeads, int headDim) {
        if (layers <= 0 || numPages <= 0 || blockSize <= 0 || kvHeads <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("PagedKvCache needs positive sizes, got layers=" + layers + " numPages="
                    + numPages + " blockSize=" + blockSize + " kvHeads=" + kvHeads + " headDim=" + headDim);
        }
        long perLayer = (long) numPages * blockSize * kvHeads * headDim;
        if (perLayer > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("one layer of " + numPages + " pages x " + blockSize + " tokens x "
                    + kvHeads + " heads x " + headDim + " dims = " + perLayer
                    + " floats does not fit one Java array; use fewer pages");
        }
        this.layers = layers;
        this.numPages = numPages;
        this.blockSize = blockSize;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.slotWidth = kvHeads * headDim;
        keys = new float[layers][(int) perLayer];
        values = new float[layers][(int) perLayer];
        for (int p = 0; p < numPages; p++) free.addLast(p);
    }

    /** Pages needed to hold {@code tokens} tokens with {@code blockSize} tokens a page. */
    public static int pagesFor(int tokens, int blockSize) {
        return (tokens + blockSize - 1) / blockSize;
    }

    public int layers() {
        return layers;
    }

    public int numPages() {
        return numPages;
    }

    public int blockSize() {
        return blockSize;
    }

    public int kvHeads() {
        return kvHeads;
    }

    public int headDim() {
        return headDim;
    }

    public synchronized int freePages() {
        return free.size();
    }

    public synchronized boolean contains(int seqId) {
        return seqs.containsKey(seqId);
    }

    /**
     * Reserves room for {@code nTokens} more tokens after {@link #length(int)} of {@code seqId}
     * (creating the sequence if it is new): grows its block table to
     * {@code ceil((length + nTokens) / bs)} pages. All or nothing: when the pool is short it
     * throws {@link OutOfPagesException} naming the pages needed and free, and takes none.
     *
     * @return the number of pages newly taken (0 when the table was already big enough)
     */
    public synchronized int allocate(int seqId, int nTokens) {
        if (nTokens < 0) throw new IllegalArgumentException("nTokens must be >= 0, got " + nTokens);
        Seq s = seqs.get(seqId);
        int have = s == null ? 0 : minLength(s);
        return ensureCapacity(seqId, have + nTokens);
    }

    /**
     * Grows the block table of {@code seqId} until it holds logical tokens {@code [0, totalTokens)}
     * (creating the sequence if new). All or nothing, as {@link #allocate}.
     *
     * @return the number of pages newly taken
     */
    public synchronized int ensureCapacity(int seqId, int totalTokens) {
        if (totalTokens < 0) throw new IllegalArgumentException("totalTokens must be >= 0, got " + totalTokens);
        int need = pagesFor(totalTokens, blockSize);
        Seq s = seqs.get(seqId);
        int have = s == null ? 0 : s.table.size();
        int more = need - have;
        if (more <= 0) {
            if (s == null) seqs.put(seqId, new Seq(layers));
            return 0;
        }
        if (more > free.size()) {
            throw new OutOfPagesException(
                    "out of KV cache pages: sequence " + seqId + " needs " + more
                            + " more page(s) (" + totalTokens + " tokens at " + blockSize + " tokens/page, it holds "
                            + have
                            + ") but only " + free.size() + " of " + numPages
                            + " pages are free; free finished sequences or build the cache with more pages",
                    more,
                    free.size());
        }
        if (s == null) {
            s = new Seq(layers);
            seqs.put(seqId, s);
        }
        for (int i = 0; i < more; i++) s.table.add(free.pollFirst());
        return more;
    }

    /** Gives every page of {@code seqId} back to the pool and forgets it; unknown ids are a no-op. */
    public synchronized void free(int seqId) {
        Seq s = seqs.remove(seqId);
        if (s == null) return;
        for (int p : s.table) if (p != RELEASED) free.addLast(p);
    }

    /**
     * Gives back the pages that lie wholly before logical position {@code pos} (for a sliding
     * context that never looks back past {@code pos}). Logical indices do not move: those
     * positions become unreadable, and the formula {@code table[i / bs] * bs + i % bs} keeps
     * holding for the rest.
     *
     * @return pages given back
     */
    public synchronized int releaseBefore(int seqId, int pos) {
        Seq s = seq(seqId);
        int upto = Math.min(pos / blockSize, s.table.size());
        int n = 0;
        for (int i = s.releasedPages; i < upto; i++) {
            free.addLast(s.table.get(i));
            s.table.set(i, RELEASED);
            n++;
        }
        s.releasedPages = Math.max(s.releasedPages, upto);
        return n;
    }

    /** Tokens of {@code seqId} cached in every layer (0 for an unknown sequence). */
    public synchronized int length(int seqId) {
        Seq s = seqs.get(seqId);
        return s == null ? 0 : minLength(s);
    }

    /** Tokens of {@code seqId} written in {@code layer}: the position a new step writes at. */
    public synchronized int length(int layer, int seqId) {
        checkLayer(layer);
        Seq s = seqs.get(seqId);
        return s == null ? 0 : s.lengths[layer];
    }

    /** Tokens the current block table can hold. */
    public synchronized int capacity(int seqId) {
        Seq s = seqs.get(seqId);
        return s == null ? 0 : s.table.size() * blockSize;
    }

    /** A copy of the block table (physical page ids, -1 for released pages). */
    public synchronized int[] blockTable(int seqId) {
        return seq(seqId).table.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Physical slot of logical token {@code i}: {@code table[i / bs] * bs + i % bs}. */
    public synchronized int physicalSlot(int seqId, int i) {
        return slot(seq(seqId).table, i, seqId);
    }

    /**
     * Writes k and v, each (n, Hkv, D) with n = k.length / (Hkv·D), at logical positions
     * {@code [startPos, startPos + n)} of {@code seqId} in {@code layer}. The pages must have been
     * allocated; {@code startPos} may not leave a hole ({@code startPos <= length(layer, seqId)});
     * rewriting earlier positions is allowed.
     */
    public void write(int layer, int seqId, int startPos, float[] k, float[] v) {
        if (k.length != v.length || k.length % slotWidth != 0) {
            throw new IllegalArgumentException("k and v must both be (n, " + kvHeads + ", " + headDim + "); got "
                    + k.length + " and " + v.length + " floats");
        }
        int n = k.length / slotWidth;
        int[] table = beginWrite(layer, seqId, startPos, n);
        float[] K = keys[layer], V = values[layer];
        for (int t = 0; t < n; t++) {
            int dst = slot(table, startPos + t, seqId) * slotWidth;
            System.arraycopy(k, t * slotWidth, K, dst, slotWidth);
            System.arraycopy(v, t * slotWidth, V, dst, slotWidth);
        }
        synchronized (this) {
            Seq s = seqs.get(seqId);
            if (s != null) s.lengths[layer] = Math.max(s.lengths[layer], startPos + n);
        }
    }

    /**
     * Writes positions {@code [startPos, startPos + n)} from heads-first tensors: token t of
     * {@code key} is {@code key[row, h, t, :]} of a (B, Hkv, S, D) tensor. Saves the caller a transpose.
     */
    public void writeHeads(int layer, int seqId, int startPos, FloatTensor key, FloatTensor value, int row, int n) {
        int S = key.dim(2);
        if (key.dim(1) != kvHeads || key.dim(3) != headDim || value.dim(1) != kvHeads || value.dim(3) != headDim) {
            throw new IllegalArgumentException("key/value " + key + "/" + value + " do not match the cache's " + kvHeads
                    + " kv heads x head dim " + headDim);
        }
        if (n > S) throw new IllegalArgumentException("cannot write " + n + " tokens from a tensor of " + S);
        int[] table = beginWrite(layer, seqId, startPos, n);
        float[] K = keys[layer], V = values[layer];
        for (int t = 0; t < n; t++) {
            int dst = slot(table, startPos + t, seqId) * slotWidth;
            for (int h = 0; h < kvHeads; h++) {
                int src = ((row * kvHeads + h) * S + t) * headDim;
                System.arraycopy(key.data, src, K, dst + h * headDim, headDim);
                System.arraycopy(value.data, src, V, dst + h * headDim, headDim);
            }
        }
        synchronized (this) {
            Seq s = seqs.get(seqId);
            if (s != null) s.lengths[layer] = Math.max(s.lengths[layer], startPos + n);
        }
    }

    private synchronized int[] beginWrite(int layer, int seqId, int startPos, int n) {
        checkLayer(layer);
        Seq s = seq(seqId);
        if (startPos < 0 || startPos > s.lengths[layer]) {
            throw new IllegalArgumentException("write at position " + startPos + " of sequence " + seqId + " layer "
                    + layer + " would leave a hole: it holds " + s.lengths[layer] + " tokens");
        }
        if (startPos + n > s.table.size() * blockSize) {
            throw new IllegalStateException("sequence " + seqId + " has pages for " + s.table.size() * blockSize
                    + " tokens but the write ends at " + (startPos + n) + "; call allocate/ensureCapacity first");
        }
        return s.table.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Gathers logical positions {@code [from, to)} of {@code layer} into key and value (Hkv, n, D). */
    public Gathered read(int layer, int seqId, int from, int to) {
        int n = to - from;
        float[] k = new float[kvHeads * Math.max(n, 0) * headDim];
        float[] v = new float[k.length];
        readInto(layer, seqId, from, to, k, v, 0, n);
        return new Gathered(new FloatTensor(k, kvHeads, n, headDim), new FloatTensor(v, kvHeads, n, headDim));
    }

    /**
     * Gathers positions {@code [from, to)} into caller arrays laid out heads-first: position
     * {@code from + j}, head h, dim d goes to {@code offset + (h * seqStride + j) * D + d}. With
     * {@code offset = row * Hkv * Smax * D} and {@code seqStride = Smax} this fills row {@code row}
     * of a (B, Hkv, Smax, D) tensor.
     */
    public void readInto(int layer, int seqId, int from, int to, float[] k, float[] v, int offset, int seqStride) {
        int[] table;
        synchronized (this) {
            checkLayer(layer);
            Seq s = seq(seqId);
            if (from < 0 || to < from || to > s.lengths[layer]) {
                throw new IndexOutOfBoundsException("read [" + from + ", " + to + ") of sequence " + seqId + " layer "
                        + layer + " which holds " + s.lengths[layer] + " tokens");
            }
            if (to - from > seqStride)
                throw new IllegalArgumentException("range of " + (to - from) + " exceeds seqStride " + seqStride);
            table = s.table.stream().mapToInt(Integer::intValue).toArray();
        }
        float[] K = keys[layer], V = values[layer];
        for (int i = from; i < to; i++) {
            int src = slot(table, i, seqId) * slotWidth;
            int j = i - from;
            for (int h = 0; h < kvHeads; h++) {
                int dst = offset + (h * seqStride + j) * headDim;
                System.arraycopy(K, src + h * headDim, k, dst, headDim);
                System.arraycopy(V, src + h * headDim, v, dst, headDim);
            }
        }
    }

    @Override
    public synchronized String toString() {
        return "PagedKvCache[layers=" + layers + ", pages=" + numPages + " (" + free.size() + " free), blockSize="
                + blockSize + ", kvHeads=" + kvHeads + ", headDim=" + headDim + ", sequences=" + seqs.keySet() + "]";
    }

    private int slot(List<Integer> table, int i, int seqId) {
        int page = i / blockSize;
        if (i < 0 || page >= table.size()) {
            throw new IndexOutOfBoundsException("logical position " + i + " of sequence " + seqId + " is beyond its "
                    + table.size() + " page(s) of " + blockSize);
        }
        int p = table.get(page);
        if (p == RELEASED) throw new IllegalStateException("position " + i + " of sequence " + seqId + " was released");
        return p * blockSize + i % blockSize;
    }

    private int slot(int[] table, int i, int seqId) {
        int page = i / blockSize;
        if (i < 0 || page >= table.length) {
            throw new IndexOutOfBoundsException("logical position " + i + " of sequence " + seqId + " is beyond its "
                    + table.length + " page(s) of " + blockSize);
        }
        int p = table[page];
        if (p == RELEASED) throw new IllegalStateException("position " + i + " of sequence " + seqId + " was released");
        return p * blockSize + i % blockSize;
    }

    private Seq seq(int seqId) {
        Seq s = seqs.get(seqId);
        if (s == null)
            throw new IllegalArgumentException(
                    "sequence " + seqId + " has no pages in this cache; call allocate first");
        return s;
    }

    private static int minLength(Seq s) {
        return Arrays.stream(s.lengths).min().orElse(0);
    }

    private void checkLayer(int layer) {
        if (layer < 0 || layer >= layers)
            throw new IndexOutOfBoundsException("layer " + layer + " outside 0.." + (layers - 1));
    }

    /** Thrown when the pool cannot supply the pages a sequence needs. */
    public static final class OutOfPagesException extends IllegalStateException {
        private final int needed;
        private final int free;

        public OutOfPagesException(String message, int needed, int free) {
            super(message);
            this.needed = needed;
            this.free = free;
        }

        public int needed() {
            return needed;
        }

        public int free() {
            return free;
        }
    }
}
