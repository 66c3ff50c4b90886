package attnspark.batch;

import java.util.List;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.IntVector;

/**
 * Tokenized rows packed back to back in Arrow vectors, the one batch format from Spark rows to
 * the kernels (the layout of HF's padding-free / {@code cu_seqlens} path, e.g.
 * {@code _flash_attention_forward} with {@code cu_seq_lens_q}):
 * <pre>
 *   tokenIds   (T)    every sequence's ids, no padding        T = totalTokens()
 *   positions  (T)    position id of each token (startPosition + s)
 *   cuSeqlens  (n+1)  sequence s is tokens cuSeqlens[s] .. cuSeqlens[s+1]-1
 *   lengths    (n)    cuSeqlens[s+1] - cuSeqlens[s]
 *   rowIndex   (n)    which input row sequence s came from (index into the caller's chunk)
 *   truncated  (n)    the tokenizer cut the text at max length
 * </pre>
 * Why Arrow: the memory is off-heap and contiguous, so a CPU kernel reads ids and offsets in
 * place ({@link #tokenIdBuffer()}, {@link #cuSeqlensBuffer()}, or their addresses) and a GPU
 * backend moves the whole batch with one host-to-device copy per buffer, without a per-row Java
 * array on the way.
 *
 * <p>Memory: every batch owns a child of the replica's allocator and frees it in {@link #close()};
 * closing a child that still holds memory throws, so leaks show up where the batch is closed, and
 * closing the replica's root allocator proves every batch was closed. Not thread-safe while being
 * built; read-only afterwards, so any number of threads may read it.
 */
public final class TokenBatch implements AutoCloseable {
    private final BufferAllocator allocator;
    private final IntVector tokenIds;
    private final IntVector positions;
    private final IntVector cuSeqlens;
    private final IntVector lengths;
    private final IntVector rowIndex;
    private final BitVector truncated;
    private final int numSequences;
    private final int totalTokens;
    private final int maxLength;

    private TokenBatch(Builder b) {
        this.allocator = b.allocator;
        this.tokenIds = b.tokenIds;
        this.positions = b.positions;
        this.cuSeqlens = b.cuSeqlens;
        this.lengths = b.lengths;
        this.rowIndex = b.rowIndex;
        this.truncated = b.truncated;
        this.numSequences = b.n;
        this.totalTokens = b.t;
        this.maxLength = b.maxLength;
        for (IntVector v : new IntVector[] {tokenIds, positions, lengths, rowIndex}) {
            v.setValueCount(v == tokenIds || v == positions ? totalTokens : numSequences);
        }
        cuSeqlens.setValueCount(numSequences + 1);
        truncated.setValueCount(numSequences);
    }

    /**
     * A builder whose vectors live in a new child of {@code parent} (the replica's allocator).
     * The capacities are hints: the vectors grow when more is added.
     */
    public static Builder builder(BufferAllocator parent, int expectedSequences, int expectedTokens) {
        return new Builder(parent, expectedSequences, expectedTokens);
    }

    /** A batch of the given id arrays (row index = position in the list), positions from 0. */
    public static TokenBatch of(BufferAllocator parent, List<int[]> ids) {
        int tokens = 0;
        for (int[] s : ids) tokens += s.length;
        Builder b = builder(parent, ids.size(), tokens);
        try {
            for (int i = 0; i < ids.size(); i++) b.add(i, ids.get(i), false);
            return b.build();
        } catch (RuntimeException | Error e) {
            b.close();
            throw e;
        }
    }

    public int numSequences() {
        return numSequences;
    }

    public int totalTokens() {
        return totalTokens;
    }

    /** The longest sequence (0 for an empty batch). */
    public int maxLength() {
        return maxLength;
    }

    /** The id of packed token t, 0 <= t < totalTokens(). */
    public int tokenId(int t) {
        return tokenIds.getDataBuffer().getInt((long) checkToken(t) * IntVector.TYPE_WIDTH);
    }

    /** The first packed token of sequence s (cu_seqlens[s]); s == numSequences() gives totalTokens(). */
    public int seqStart(int s) {
        if (s < 0 || s > numSequences) throw new IndexOutOfBoundsException("sequence " + s + " of " + numSequences);
        return cuSeqlens.getDataBuffer().getInt((long) s * IntVector.TYPE_WIDTH);
    }

    public int seqLength(int s) {
        return lengths.getDataBuffer().getInt((long) checkSequence(s) * IntVector.TYPE_WIDTH);
    }

    /** The position id of packed token t. */
    public int position(int t) {
        return positions.getDataBuffer().getInt((long) checkToken(t) * IntVector.TYPE_WIDTH);
    }

    /** The position of sequence s's first token (0 unless it continues a cached prefix). */
    public int startPosition(int s) {
        return seqLength(s) == 0 ? 0 : position(seqStart(s));
    }

    /** Which input row sequence s came from, as given to {@link Builder#add}. */
    public int rowIndex(int s) {
        return rowIndex.getDataBuffer().getInt((long) checkSequence(s) * IntVector.TYPE_WIDTH);
    }

    public boolean truncated(int s) {
        return truncated.get(checkSequence(s)) != 0;
    }

    /** Sequence s's ids as a new array (tests and adapters; kernels read the buffer in place). */
    public int[] sequenceIds(int s) {
        int start = seqStart(s), len = seqLength(s);
        int[] ids = new int[len];
        ArrowBuf buf = tokenIds.getDataBuffer();
        for (int i = 0; i < len; i++) ids[i] = buf.getInt((long) (start + i) * IntVector.TYPE_WIDTH);
        return ids;
    }

    /** (T) int32 little-endian token ids, read in place; valid until {@link #close()}. */
    public ArrowBuf tokenIdBuffer() {
        return tokenIds.getDataBuffer();
    }

    /** (n+1) int32 cu_seqlens offsets, read in place; valid until {@link #close()}. */
    public ArrowBuf cuSeqlensBuffer() {
        return cuSeqlens.getDataBuffer();
    }

    /** (T) int32 position ids, read in place; valid until {@link #close()}. */
    public ArrowBuf positionBuffer() {
        return positions.getDataBuffer();
    }

    /** Native address of the token ids, for kernels outside the JVM heap (JNI, a CUDA memcpy). */
    public long tokenIdAddress() {
        return tokenIds.getDataBuffer().memoryAddress();
    }

    public long cuSeqlensAddress() {
        return cuSeqlens.getDataBuffer().memoryAddress();
    }

    public long positionAddress() {
        return positions.getDataBuffer().memoryAddress();
    }

    /** The vectors themselves, for writers (Arrow IPC, Spark's ArrowColumnVector). */
    public IntVector tokenIdVector() {
        return tokenIds;
    }

    public IntVector cuSeqlensVector() {
        return cuSeqlens;
    }

    /** The batch's own allocator (a child of the replica's), e.g. for output vectors freed with the batch. */
    public BufferAllocator allocator() {
        return allocator;
    }

    /**
     * A new batch (in a new child of {@code parent}) holding the given sequences of this one, in
     * that order, with their row indexes, positions and truncation flags: how a chunk tokenized
     * once is cut into token-budget forward batches. Ids are copied buffer to buffer.
     */
    public TokenBatch select(BufferAllocator parent, int[] sequences) {
        int tokens = 0;
        for (int s : sequences) tokens += seqLength(s);
        Builder b = builder(parent, sequences.length, tokens);
        try {
            for (int s : sequences) {
                int start = seqStart(s), len = seqLength(s);
                b.addFrom(
                        tokenIds.getDataBuffer(),
                        (long) start * IntVector.TYPE_WIDTH,
                        len,
                        rowIndex(s),
                        startPosition(s),
                        truncated(s));
            }
            return b.build();
        } catch (RuntimeException | Error e) {
            b.close();
            throw e;
        }
    }

    private int checkToken(int t) {
        if (t < 0 || t >= totalTokens) throw new IndexOutOfBoundsException("token " + t + " of " + totalTokens);
        return t;
    }

    private int checkSequence(int s) {
        if (s < 0 || s >= numSequences) throw new IndexOutOfBoundsException("sequence " + s + " of " + numSequences);
        return s;
    }

    /** Frees the vectors, then the batch's allocator (which throws if anything else it handed out is still open). */
    @Override
    public void close() {
        closeAll(allocator, tokenIds, positions, cuSeqlens, lengths, rowIndex, truncated);
    }

    private static void closeAll(BufferAllocator allocator, AutoCloseable... vectors) {
        for (AutoCloseable v : vectors) {
            try {
                if (v != null) v.close();
            } catch (Exception ignored) {
                // vectors' close only releases buffers; the allocator's close below reports any leak
            }
        }
        allocator.close();
    }

    /** Appends sequences; ids go straight into the Arrow buffers. {@link #build()} hands the vectors to the batch. */
    public static final class Builder implements AutoCloseable {
        private final BufferAllocator allocator;
        private final IntVector tokenIds, positions, cuSeqlens, lengths, rowIndex;
        private final BitVector truncated;
        private int n, t, maxLength;
        private boolean built;

        private Builder(BufferAllocator parent, int expectedSequences, int expectedTokens) {
            if (expectedSequences < 0 || expectedTokens < 0) {
                throw new IllegalArgumentException("capacities must be >= 0, got " + expectedSequences + " sequences, "
                        + expectedTokens + " tokens");
            }
            this.allocator = parent.newChildAllocator("token-batch", 0, parent.getLimit());
            try {
                tokenIds = new IntVector("token_ids", allocator);
                positions = new IntVector("positions", allocator);
                cuSeqlens = new IntVector("cu_seqlens", allocator);
                lengths = new IntVector("lengths", allocator);
                rowIndex = new IntVector("row_index", allocator);
                truncated = new BitVector("truncated", allocator);
                tokenIds.allocateNew(Math.max(1, expectedTokens));
                positions.allocateNew(Math.max(1, expectedTokens));
                cuSeqlens.allocateNew(expectedSequences + 1);
                lengths.allocateNew(Math.max(1, expectedSequences));
                rowIndex.allocateNew(Math.max(1, expectedSequences));
                truncated.allocateNew(Math.max(1, expectedSequences));
                cuSeqlens.setSafe(0, 0);
            } catch (RuntimeException | Error e) {
                close();
                throw e;
            }
        }

        /** Appends one sequence (positions 0..L-1). */
        public Builder add(int row, int[] ids, boolean truncatedFlag) {
            return add(row, ids, 0, truncatedFlag);
        }

        /** Appends one sequence whose first token sits at {@code startPosition} (a cached prefix before it). */
        public Builder add(int row, int[] ids, int startPosition, boolean truncatedFlag) {
            int start = beginSequence(ids.length, row, startPosition);
            for (int i = 0; i < ids.length; i++) {
                tokenIds.set(start + i, ids[i]);
                positions.set(start + i, startPosition + i);
            }
            return endSequence(ids.length, row, truncatedFlag);
        }

        /** Appends one sequence from the tokenizer's 64-bit ids, narrowing each (ids above int range fail). */
        public Builder add(int row, long[] ids, boolean truncatedFlag) {
            int start = beginSequence(ids.length, row, 0);
            for (int i = 0; i < ids.length; i++) {
                long id = ids[i];
                if (id < 0 || id > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException(
                            "row " + row + ": token id " + id + " at " + i + " is outside int range");
                }
                tokenIds.set(start + i, (int) id);
                positions.set(start + i, i);
            }
            return endSequence(ids.length, row, truncatedFlag);
        }

        private Builder addFrom(
                ArrowBuf src, long srcByte, int len, int row, int startPosition, boolean truncatedFlag) {
            int start = beginSequence(len, row, startPosition);
            tokenIds.getDataBuffer()
                    .setBytes((long) start * IntVector.TYPE_WIDTH, src, srcByte, (long) len * IntVector.TYPE_WIDTH);
            for (int i = 0; i < len; i++) positions.set(start + i, startPosition + i);
            return endSequence(len, row, truncatedFlag);
        }

        public int numSequences() {
            return n;
        }

        public int totalTokens() {
            return t;
        }

        private int beginSequence(int len, int row, int startPosition) {
            if (built) throw new IllegalStateException("this builder already built its batch");
            if (row < 0) throw new IllegalArgumentException("row index must be >= 0, got " + row);
            if (startPosition < 0)
                throw new IllegalArgumentException(
                        "row " + row + ": start position must be >= 0, got " + startPosition);
            long end = (long) t + len;
            if (end > Integer.MAX_VALUE / IntVector.TYPE_WIDTH) {
                throw new IllegalArgumentException("row " + row + ": a batch holds at most "
                        + Integer.MAX_VALUE / IntVector.TYPE_WIDTH + " tokens; lower the batch token budget");
            }
            while (tokenIds.getValueCapacity() < end) tokenIds.reAlloc();
            while (positions.getValueCapacity() < end) positions.reAlloc();
            return t;
        }

        private Builder endSequence(int len, int row, boolean truncatedFlag) {
            lengths.setSafe(n, len);
            rowIndex.setSafe(n, row);
            truncated.setSafe(n, truncatedFlag ? 1 : 0);
            t += len;
            n++;
            cuSeqlens.setSafe(n, t);
            maxLength = Math.max(maxLength, len);
            return this;
        }

        /** The batch; the builder can no longer add. */
        public TokenBatch build() {
            if (built) throw new IllegalStateException("this builder already built its batch");
            built = true;
            return new TokenBatch(this);
        }

        /** Frees what was written when the batch is never built (after {@link #build()} the batch owns it). */
        @Override
        public void close() {
            if (built) return;
            built = true;
            closeAll(allocator, tokenIds, positions, cuSeqlens, lengths, rowIndex, truncated);
        }
    }
}
