package attnspark.attention.dispatch;

import attnspark.attention.AttentionMask;
import attnspark.attention.MaskFormatter;
import attnspark.attention.MaskFunction;

/**
 * HF's {@code create_causal_mask} / {@code create_bidirectional_mask} / sliding / chunked:
 * build the mask once per forward, in the format the active backend registered.
 * A pre-built mask given by the caller ({@link MaskInputs#prebuilt}) passes through unchanged.
 */
public final class Masks {
    private Masks() {}

    /**
     * What a model knows at mask time.
     *
     * @param attnImplementation the backend name (its mask formatter decides the format)
     * @param maskInterface      the model's mask interface (local overrides), usually {@link AttentionMaskInterface#ALL}
     * @param paddingMask        (B, kvLength) true = real token, or null
     * @param positionIds        (B, Sq) or null; used to detect packed sequences when there is no padding mask and no cache
     * @param pastLength         tokens already in the KV cache (q offset); 0 without a cache
     * @param isCausal           config.is_causal; false turns causal masks bidirectional
     * @param prebuilt           a 4-D mask given by the caller, returned as is
     */
    public record MaskInputs(
            String attnImplementation,
            AttentionMaskInterface maskInterface,
            int batch,
            int qLength,
            boolean[][] paddingMask,
            int[][] positionIds,
            int pastLength,
            boolean isCausal,
            MaskFunction orMaskFunction,
            MaskFunction andMaskFunction,
            AttentionMask prebuilt) {
        /** No cache, causal, no extra mask functions, the global mask interface; change the rest with the with* methods. */
        public static MaskInputs of(String attn, int batch, int qLength, boolean[][] paddingMask) {
            Builder b = new Builder();
            b.attnImplementation = attn;
            b.maskInterface = AttentionMaskInterface.ALL;
            b.batch = batch;
            b.qLength = qLength;
            b.paddingMask = paddingMask;
            b.isCausal = true;
            return b.build();
        }

        public MaskInputs withMaskInterface(AttentionMaskInterface masks) {
            Builder b = toBuilder();
            b.maskInterface = masks;
            return b.build();
        }

        public MaskInputs withPositionIds(int[][] ids) {
            Builder b = toBuilder();
            b.positionIds = ids;
            return b.build();
        }

        public MaskInputs withCausal(boolean causal) {
            Builder b = toBuilder();
            b.isCausal = causal;
            return b.build();
        }

        public MaskInputs withPastLength(int past) {
            Builder b = toBuilder();
            b.pastLength = past;
            return b.build();
        }

        public MaskInputs withMaskFunctions(MaskFunction or, MaskFunction and) {
            Builder b = toBuilder();
            b.orMaskFunction = or;
            b.andMaskFunction = and;
            return b.build();
        }

        public MaskInputs withPrebuilt(AttentionMask mask) {
            Builder b = toBuilder();
            b.prebuilt = mask;
            return b.build();
        }

        private Builder toBuilder() {
            Builder b = new Builder();
            b.attnImplementation = attnImplementation;
            b.maskInterface = maskInterface;
            b.batch = batch;
            b.qLength = qLength;
            b.paddingMask = paddingMask;
            b.positionIds = positionIds;
            b.pastLength = pastLength;
            b.isCausal = isCausal;
            b.orMaskFunction = orMaskFunction;
            b.andMaskFunction = andMaskFunction;
            b.prebuilt = prebuilt;
            return b;
        }

        /** The one place that calls the canonical constructor: every with* method changes a copy of it. */
        private static final class Builder {
            String attnImplementation;
            AttentionMaskInterface maskInterface;
            int batch;
            int qLength;
            boolean[][] paddingMask;
            int[][] positionIds;
            int pastLength;
            boolean isCausal;
            MaskFunction orMaskFunction;
            MaskFunction andMaskFunction;
            AttentionMask prebuilt;

            MaskInputs build() {
                return new MaskInputs(
                        attnImplementation,
                        maskInterface,
                        batch,
                        qLength,
                        paddingMask,
                        positionIds,
                        pastLength,
                        isCausal,
                        orMaskFunction,
                        andMaskFunction,
                        prebuilt);
            }
        }
    }

    public static AttentionMask createCausalMask(MaskInputs in) {
        if (!in.isCausal()) return createBidirectionalMask(in.withPositionIds(null));
        return build(in, MaskFunction.causal(), true, false, null, true);
    }

    public static AttentionMask createBidirectionalMask(MaskInputs in) {
        return build(in, MaskFunction.bidirectional(), false, true, null, false);
    }

    public static AttentionMask createSlidingWindowCausalMask(MaskInputs in, Integer slidingWindow) {
        if (slidingWindow == null || slidingWindow <= 0) {
            throw new IllegalArgumentException(
                    "Could not find a `sliding_window` argument in the config, or it is not set");
        }
        if (!in.isCausal()) return createBidirectionalSlidingWindowMask(in, slidingWindow);
        return build(in, MaskFunction.slidingWindowCausal(slidingWindow), true, false, slidingWindow, true);
    }

    public static AttentionMask createBidirectionalSlidingWindowMask(MaskInputs in, int slidingWindow) {
        return build(in, MaskFunction.slidingWindowBidirectional(slidingWindow), false, true, slidingWindow, false);
    }

    public static AttentionMask createChunkedCausalMask(MaskInputs in, int chunkSize) {
        if (chunkSize <= 0)
            throw new IllegalArgumentException("attention_chunk_size must be positive, got " + chunkSize);
        // HF create_chunked_causal_mask: flash kernels take only a padding mask, so they cannot run chunks
        int kvLength = in.paddingMask() != null ? in.paddingMask()[0].length : in.pastLength() + in.qLength();
        String impl = in.attnImplementation();
        if (in.prebuilt() == null && impl != null && impl.contains("flash") && kvLength > chunkSize) {
            throw new IllegalArgumentException(
                    "Flash attention cannot handle chunked attention (attention_chunk_size " + chunkSize
                            + " < kv length " + kvLength + ") with '" + impl + "'; use sdpa, eager or flex_attention");
        }
        int[] leftPad = new int[in.batch()];
        if (in.paddingMask() != null) {
            for (int b = 0; b < in.batch(); b++) {
                int n = 0;
                while (n < in.paddingMask()[b].length && !in.paddingMask()[b][n]) n++;
                leftPad[b] = n;
            }
        }
        return build(in, MaskFunction.chunkedCausal(chunkSize, leftPad), true, false, chunkSize, false);
    }

    private static AttentionMask build(
            MaskInputs in,
            MaskFunction base,
            boolean allowCausalSkip,
            boolean allowBidirectionalSkip,
            Integer localSize,
            boolean detectPacking) {
        if (in.prebuilt() != null) return in.prebuilt();
        // HF checks the *global* mapping here: a backend without a registered formatter gets no mask at all.
        if (in.attnImplementation() == null || !in.maskInterface().containsGlobal(in.attnImplementation())) return null;
        MaskFormatter formatter = in.maskInterface().lookup(in.attnImplementation());

        int qOffset = in.pastLength();
        int kvLength = in.paddingMask() != null ? in.paddingMask()[0].length : in.pastLength() + in.qLength();
        int kvOffset = 0;

        MaskFunction f = base;
        if (in.orMaskFunction() != null) {
            f = f.or(in.orMaskFunction());
            allowCausalSkip = false;
            allowBidirectionalSkip = false;
        }
        if (in.andMaskFunction() != null) {
            f = f.and(in.andMaskFunction());
            allowCausalSkip = false;
            allowBidirectionalSkip = false;
        }
        if (detectPacking && in.positionIds() != null && in.paddingMask() == null && in.pastLength() == 0) {
            int[][] seqIds = findPackedSequenceIndices(in.positionIds(), in.batch());
            if (seqIds != null) {
                f = f.and(MaskFunction.packedSequence(seqIds));
                allowCausalSkip = false;
            }
        }
        return formatter.format(new MaskFormatter.MaskRequest(
                in.batch(),
                in.qLength(),
                kvLength,
                qOffset,
                kvOffset,
                f,
                in.paddingMask(),
                allowCausalSkip,
                allowBidirectionalSkip,
                localSize));
    }

    /**
     * HF find_packed_sequence_indices: a new sequence starts at any step that is not +1.
     * Null when no row is packed.
     */
    public static int[][] findPackedSequenceIndices(int[][] positionIds, int batch) {
        int[][] ids = new int[batch][];
        boolean packed = false;
        for (int b = 0; b < batch; b++) {
            int[] pos = positionIds[positionIds.length == 1 ? 0 : b];
            int[] row = new int[pos.length];
            int s = 0;
            for (int i = 1; i < pos.length; i++) {
                if (pos[i] - pos[i - 1] != 1) s++;
                row[i] = s;
            }
            ids[b] = row;
            if (s != 0) packed = true;
        }
        return packed ? ids : null;
    }
}
