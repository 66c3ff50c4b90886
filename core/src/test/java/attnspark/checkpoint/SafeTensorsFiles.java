package attnspark.checkpoint;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Writes safetensors files by hand, independently of the reader under test, including
 * deliberately wrong ones (the header text and length are whatever the test says).
 */
final class SafeTensorsFiles {
    private SafeTensorsFiles() {}

    record T(String name, String dtype, int[] shape, byte[] data) {}

    static T f32(String name, float[] v, int... shape) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return new T(name, "F32", shape, b.array());
    }

    /** 16-bit patterns (F16 or BF16) as given, little-endian. */
    static T bits16(String name, String dtype, int[] bits, int... shape) {
        ByteBuffer b = ByteBuffer.allocate(bits.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : bits) b.putShort((short) x);
        return new T(name, dtype, shape, b.array());
    }

    static T i64(String name, long[] v, int... shape) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long x : v) b.putLong(x);
        return new T(name, "I64", shape, b.array());
    }

    /** A well-formed file: tensors laid out back to back in the given order. */
    static Path write(Path file, T... tensors) throws IOException {
        StringBuilder h = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long off = 0;
        List<byte[]> parts = new ArrayList<>();
        for (T t : tensors) {
            h.append(",\"")
                    .append(t.name)
                    .append("\":{\"dtype\":\"")
                    .append(t.dtype)
                    .append("\",\"shape\":")
                    .append(Arrays.toString(t.shape).replace(" ", ""))
                    .append(",\"data_offsets\":[")
                    .append(off)
                    .append(',')
                    .append(off + t.data.length)
                    .append("]}");
            off += t.data.length;
            parts.add(t.data);
        }
        h.append('}');
        return writeRaw(file, h.toString(), concat(parts));
    }

    static Path writeRaw(Path file, String header, byte[] data) throws IOException {
        byte[] hb = header.getBytes(StandardCharsets.UTF_8);
        return writeWithLength(file, hb.length, hb, data);
    }

    /** Lets a test lie about the header length. */
    static Path writeWithLength(Path file, long headerLen, byte[] header, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLen).put(header).put(data);
        Files.write(file, b.array());
        return file;
    }

    static void truncate(Path file, long newSize) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(newSize);
        }
    }

    private static byte[] concat(List<byte[]> parts) {
        int n = 0;
        for (byte[] p : parts) n += p.length;
        byte[] out = new byte[n];
        int o = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }
}
