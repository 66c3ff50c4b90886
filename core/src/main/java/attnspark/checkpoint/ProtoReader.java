package attnspark.checkpoint;

import java.nio.charset.StandardCharsets;

/**
 * Just enough of the protobuf wire format to walk an ONNX model, over a byte range of one array.
 * Every length and varint is checked against the bytes that remain, so a damaged or hostile file
 * fails here with the file name and offset, instead of an index error deep inside a caller.
 */
final class ProtoReader {
    static final int VARINT = 0, FIXED64 = 1, LEN = 2, FIXED32 = 5;

    final byte[] buf;
    private final String source;
    private final String what;
    private int pos;
    private final int limit;
    int field;
    int wire;

    ProtoReader(byte[] buf, int offset, int length, String source, String what) {
        this.buf = buf;
        this.pos = offset;
        this.limit = offset + length;
        this.source = source;
        this.what = what;
    }

    boolean next() {
        if (pos >= limit) return false;
        int at = pos;
        long tag = varint();
        field = (int) (tag >>> 3);
        wire = (int) (tag & 7);
        if (field <= 0 || (tag >>> 3) > 0x1fffffff) throw corrupt(at, "invalid field number " + (tag >>> 3));
        return true;
    }

    int position() {
        return pos;
    }

    int remaining() {
        return limit - pos;
    }

    long varint() {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= limit) throw corrupt(pos, "varint runs past the end");
            int b = buf[pos++];
            v |= (long) (b & 0x7f) << shift;
            if (b >= 0) return v;
        }
        throw corrupt(pos, "varint longer than 10 bytes");
    }

    int fixed32() {
        need(4);
        int v = (buf[pos] & 0xff)
                | (buf[pos + 1] & 0xff) << 8
                | (buf[pos + 2] & 0xff) << 16
                | (buf[pos + 3] & 0xff) << 24;
        pos += 4;
        return v;
    }

    long fixed64() {
        long lo = fixed32() & 0xffffffffL;
        long hi = fixed32() & 0xffffffffL;
        return lo | hi << 32;
    }

    /** Length of a LEN field, checked against what remains; the reader is left at its first byte. */
    int length() {
        int at = pos;
        long n = varint();
        if (n < 0 || n > limit - pos) {
            throw corrupt(
                    at,
                    "length-delimited field " + field + " claims " + Long.toUnsignedString(n) + " bytes but only "
                            + (limit - pos) + " remain");
        }
        return (int) n;
    }

    /** The LEN field's payload as a sub-reader; this reader moves past it. */
    ProtoReader message(String what) {
        expect(LEN);
        int n = length();
        ProtoReader r = new ProtoReader(buf, pos, n, source, what);
        pos += n;
        return r;
    }

    String string() {
        expect(LEN);
        int n = length();
        String s = new String(buf, pos, n, StandardCharsets.UTF_8);
        pos += n;
        return s;
    }

    /** Start offset of a LEN payload in {@link #buf}; the reader moves past it. {@code lengthOut[0]} receives the length. */
    int bytes(int[] lengthOut) {
        expect(LEN);
        int n = length();
        int start = pos;
        pos += n;
        lengthOut[0] = n;
        return start;
    }

    void skip() {
        switch (wire) {
            case VARINT -> varint();
            case FIXED64 -> need(8);
            case LEN -> {
                int n = length();
                pos += n;
                return;
            }
            case FIXED32 -> need(4);
            default -> throw corrupt(pos, "unsupported wire type " + wire + " (groups or garbage) for field " + field);
        }
        pos += wire == FIXED64 ? 8 : wire == FIXED32 ? 4 : 0;
    }

    void expect(int wireType) {
        if (wire != wireType) {
            throw corrupt(pos, "field " + field + " has wire type " + wire + ", expected " + wireType);
        }
    }

    private void need(int n) {
        if (limit - pos < n) throw corrupt(pos, n + " bytes needed, " + (limit - pos) + " remain");
    }

    CheckpointException corrupt(int at, String detail) {
        return new CheckpointException(source + ": corrupt or truncated ONNX protobuf in " + what + " at byte " + at
                + " (" + detail + "); the file is damaged or not an ONNX model: re-download or re-export it.");
    }
}
