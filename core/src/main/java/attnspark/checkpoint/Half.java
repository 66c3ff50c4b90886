package attnspark.checkpoint;

/**
 * 16-bit float formats to float32. Java 17 has no Float.float16ToFloat, so IEEE half is decoded
 * by hand; every half value is exactly representable as a float, so the conversion is exact.
 */
final class Half {
    private Half() {}

    /** IEEE 754 binary16 (sign 1, exponent 5, mantissa 10) in the low 16 bits. */
    static float f16ToF32(int h) {
        int sign = (h >>> 15) & 1;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) {
            // inf when the mantissa is zero, NaN otherwise (payload kept in the high mantissa bits)
            return Float.intBitsToFloat((sign << 31) | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            // zero or subnormal: mant * 2^-24, exact in float since mant < 2^10
            float v = mant * 0x1p-24f;
            return sign == 0 ? v : -v;
        }
        // normal: rebias the exponent from 15 to 127
        return Float.intBitsToFloat((sign << 31) | ((exp + 112) << 23) | (mant << 13));
    }

    /** bfloat16 is the top half of a float32. */
    static float bf16ToF32(int b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }
}
