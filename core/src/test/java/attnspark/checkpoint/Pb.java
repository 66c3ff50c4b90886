package attnspark.checkpoint;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** A tiny protobuf writer for building ONNX models in tests, independent of the reader under test. */
final class Pb {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Pb varint(long v) {
        while ((v & ~0x7fL) != 0) {
            out.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
        return this;
    }

    Pb tag(int field, int wire) {
        return varint((long) field << 3 | wire);
    }

    Pb i(int field, long v) {
        return tag(field, 0).varint(v);
    }

    Pb bytes(int field, byte[] b) {
        tag(field, 2).varint(b.length);
        out.writeBytes(b);
        return this;
    }

    Pb s(int field, String s) {
        return bytes(field, s.getBytes(StandardCharsets.UTF_8));
    }

    Pb m(int field, Pb msg) {
        return bytes(field, msg.toBytes());
    }

    Pb raw(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    byte[] toBytes() {
        return out.toByteArray();
    }

    // ---- ONNX helpers

    static Pb floatTensorRaw(String name, float[] v, long... dims) {
        Pb t = new Pb();
        for (long d : dims) t.i(1, d); // unpacked dims
        t.i(2, 1).s(8, name);
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return t.bytes(9, b.array());
    }

    static Pb node(String name, String op, String[] in, String... outs) {
        Pb n = new Pb();
        for (String i : in) n.s(1, i);
        for (String o : outs) n.s(2, o);
        return n.s(3, name).s(4, op);
    }

    static Pb valueInfo(String name, long... dims) {
        Pb shape = new Pb();
        for (long d : dims) shape.m(1, new Pb().i(1, d));
        return new Pb().s(1, name).m(2, new Pb().m(1, new Pb().i(1, 1).m(2, shape)));
    }

    static byte[] model(Pb graph) {
        return new Pb().i(1, 7).m(8, new Pb().s(1, "").i(2, 13)).m(7, graph).toBytes();
    }
}
