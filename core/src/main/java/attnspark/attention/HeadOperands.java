package attnspark.attention;

/**
 * What the query rows of one attention head are computed against, as the row kernels
 * ({@link AttentionRows#row}, {@link VectorAttentionRows#row}) read it: built once per head (its
 * keys are transposed into {@code kT} before), then each query row passes only its own offsets and
 * key count. The scratch arrays belong to one thread.
 *
 * @param q       queries: a row's D entries start at the offset passed with the row
 * @param D       the query/key head dimension
 * @param scaling the factor on q·Kᵀ
 * @param kT      keys transposed, (D, kStride): key j, dim d at {@code kT[d*kStride + j]}
 * @param kStride the row length of {@code kT}; at least every row's key count n
 * @param bias    (kStride) per key: 0 or an additive mask value where visible, -inf where hidden;
 *                entries n..kStride-1 must be -inf
 * @param v       values: key j at {@code v[(vBase + j)*Dv ..]}
 * @param vBase   the first key's row in {@code v}
 * @param Dv      the value head dimension
 * @param scores  scratch (kStride)
 * @param acc     scratch (Dv)
 * @param out     outputs: a row's Dv entries start at the offset passed with the row
 */
record HeadOperands(
        float[] q,
        int D,
        float scaling,
        float[] kT,
        int kStride,
        float[] bias,
        float[] v,
        int vBase,
        int Dv,
        float[] scores,
        float[] acc,
        float[] out) {}
