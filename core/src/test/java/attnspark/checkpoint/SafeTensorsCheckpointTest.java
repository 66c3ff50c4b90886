package attnspark.checkpoint;

import static attnspark.checkpoint.SafeTensorsFiles.*;
import static attnspark.testutil.Messages.assertMentions;
import static org.junit.jupiter.api.Assertions.*;

import attnspark.tensor.FloatTensor;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsCheckpointTest {
    @TempDir
    Path tmp;

    /** Reference half decoding by the textbook formula in double arithmetic, not bit tricks. */
    static double halfByFormula(int h) {
        int sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
        double s = sign == 1 ? -1 : 1;
        if (exp == 0x1f) return mant == 0 ? s * Double.POSITIVE_INFINITY : Double.NaN;
        if (exp == 0) return s * mant * Math.pow(2, -24);
        return s * (1 + mant / 1024.0) * Math.pow(2, exp - 15);
    }

    @Test
    void f32RoundTripAndMetadataSkipped() throws IOException {
        float[] a = {1f, -2.5f, 3.25e-7f, Float.MAX_VALUE, -0f, Float.MIN_VALUE};
        Path f = write(
                tmp.resolve("m.safetensors"),
                f32("a", a, 2, 3),
                f32("scalar", new float[] {42f}),
                f32("empty", new float[0], 0, 4));
        try (SafeTensorsCheckpoint ck = SafeTensorsCheckpoint.open(f)) {
            assertEquals(Set.of("a", "scalar", "empty"), ck.names());
            assertArrayEquals(new int[] {2, 3}, ck.shape("a"));
            FloatTensor t = ck.tensor("a", 2, 3);
            assertArrayEquals(a, t.data);
            assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(t.data[4]));
            assertArrayEquals(new float[] {42f}, ck.tensor("scalar").data);
            assertEquals(0, ck.tensor("empty", 0, 4).data.length);
            assertEquals("F32", ck.dtype("a"));
        }
    }

    /** What a one-tensor checkpoint of the 16-bit {@code dtype} values {@code bits} reads as. */
    float[] read16(String dtype, int[] bits) throws IOException {
        Path f = write(tmp.resolve(dtype + ".safetensors"), bits16("v", dtype, bits, bits.length));
        try (SafeTensorsCheckpoint ck = SafeTensorsCheckpoint.open(f)) {
            return ck.tensor("v").data;
        }
    }

    @Test
    void f16KnownBitPatterns() throws IOException {
        int[] bits = {0x3C00, 0xC000, 0x7C00, 0xFC00, 0x0001, 0x03FF, 0x0400, 0x7BFF, 0x8000, 0x3555, 0x7E00};
        float[] v = read16("F16", bits);
        assertEquals(1.0f, v[0]);
        assertEquals(-2.0f, v[1]);
        assertEquals(Float.POSITIVE_INFINITY, v[2]);
        assertEquals(Float.NEGATIVE_INFINITY, v[3]);
        assertEquals(5.9604645e-8f, v[4]); // smallest subnormal, 2^-24
        assertEquals(6.097555e-5f, v[5]); // largest subnormal
        assertEquals(6.1035156e-5f, v[6]); // smallest normal, 2^-14
        assertEquals(65504f, v[7]); // largest finite half
        assertEquals(0x80000000, Float.floatToRawIntBits(v[8])); // -0 keeps its sign
        assertEquals(0.33325195f, v[9]);
        assertTrue(Float.isNaN(v[10]));
    }

    @Test
    void f16AllBitPatternsMatchTheFormula() throws IOException {
        int[] bits = new int[65536];
        for (int i = 0; i < bits.length; i++) bits[i] = i;
        Path f = write(tmp.resolve("all.safetensors"), bits16("all", "F16", bits, 256, 256));
        try (SafeTensorsCheckpoint ck = SafeTensorsCheckpoint.open(f)) {
            float[] v = ck.tensor("all", 256, 256).data;
            for (int i = 0; i < bits.length; i++) {
                double want = halfByFormula(i);
                if (Double.isNaN(want)) assertTrue(Float.isNaN(v[i]), "bits " + Integer.toHexString(i));
                else assertEquals(want, v[i], 0.0, "bits " + Integer.toHexString(i));
            }
        }
    }

    @Test
    void bf16KnownBitPatterns() throws IOException {
        int[] bits = {0x3F80, 0xC040, 0x7F80, 0xFF80, 0x7FC0, 0x0001, 0x4049};
        float[] v = read16("BF16", bits);
        assertEquals(1.0f, v[0]);
        assertEquals(-3.0f, v[1]);
        assertEquals(Float.POSITIVE_INFINITY, v[2]);
        assertEquals(Float.NEGATIVE_INFINITY, v[3]);
        assertTrue(Float.isNaN(v[4]));
        assertEquals(Math.scalb(1f, -133), v[5]); // float subnormal
        assertEquals(3.140625f, v[6]);
    }

    @Test
    void largeTensorIsReadAcrossChunkBoundaries() throws IOException {
        // bigger than the reader's 1 MiB chunk, with an odd F16 count so chunks split mid-way
        int n = 700_001;
        float[] a = new float[n];
        int[] h = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i * 0.5f - 7;
            h[i] = i & 0x7bff;
        }
        Path f = write(tmp.resolve("big.safetensors"), f32("a", a, n), bits16("h", "F16", h, n));
        try (SafeTensorsCheckpoint ck = SafeTensorsCheckpoint.open(f)) {
            assertArrayEquals(a, ck.tensor("a").data);
            float[] v = ck.tensor("h").data;
            for (int i = 0; i < n; i++) assertEquals(halfByFormula(h[i]), v[i], 0.0);
        }
    }

    @Test
    void nonFloatDtypeListedButNotReadable() throws IOException {
        Path f = write(
                tmp.resolve("i.safetensors"),
                i64("position_ids", new long[] {0, 1, 2}, 1, 3),
                f32("w", new float[] {1}, 1));
        assertListedButNotReadable(f, "position_ids", new int[] {1, 3}, "I64");
    }

    /** {@code f} lists {@code name} with {@code shape}, and reading it fails naming the file, the tensor and {@code why}. */
    static void assertListedButNotReadable(Path f, String name, int[] shape, String why) throws IOException {
        try (SafeTensorsCheckpoint ck = SafeTensorsCheckpoint.open(f)) {
            assertTrue(ck.names().contains(name));
            assertArrayEquals(shape, ck.shape(name));
            CheckpointException e = assertThrows(CheckpointException.class, () -> ck.tensor(name));
            assertMentions(e, f.toString(), "'" + name + "'", why);
        }
    }

    @Test
    void unknownNameListsNearbyNames() throws IOException {
        Path f = write(
                tmp.resolve("n.safetensors"),
                f32("model.layers.0.mlp.up_proj.weight", new float[] {1}, 1),
                f32("model.layers.0.mlp.down_proj.weight", new float[] {1}, 1),
                f32("lm_head.weight", new float[] {1}, 1));
        try (SafeTensorsCheckpoint ck = SafeTensorsCheckpoint.open(f)) {
            CheckpointException e =
                    assertThrows(CheckpointException.class, () -> ck.tensor("model.layers.0.mlp.up_proj.weigth"));
            String m = e.getMessage();
            assertTrue(m.startsWith(f.toString()) && m.contains("'model.layers.0.mlp.up_proj.weigth'"), m);
            assertTrue(
                    m.indexOf("model.layers.0.mlp.up_proj.weight") < m.indexOf("lm_head.weight"),
                    "closest first: " + m);
        }
    }

    @Test
    void shapeMismatchNamesBothShapes() throws IOException {
        Path f = write(tmp.resolve("s.safetensors"), f32("x", new float[6], 2, 3));
        try (SafeTensorsCheckpoint ck = SafeTensorsCheckpoint.open(f)) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> ck.tensor("x", 3, 2));
            assertTrue(
                    e.getMessage().startsWith(f + ": tensor 'x' has shape [2, 3], the config expects [3, 2]"),
                    e.getMessage());
        }
    }

    @Test
    void checkAllUsedReportsMissingAndUnexpected() throws IOException {
        Path f = write(
                tmp.resolve("u.safetensors"),
                f32("a", new float[] {1}, 1),
                f32("b", new float[] {1}, 1),
                f32("buf.position_ids", new float[] {1}, 1),
                f32("extra", new float[] {1}, 1));
        try (SafeTensorsCheckpoint ck = SafeTensorsCheckpoint.open(f)) {
            ck.checkAllUsed(Set.of("a", "b", "extra"), Set.of("buf.*"));
            CheckpointException e = assertThrows(
                    CheckpointException.class, () -> ck.checkAllUsed(Set.of("a", "c"), Set.of("buf.position_ids")));
            String m = e.getMessage();
            assertTrue(
                    m.contains(f.toString())
                            && m.contains("missing tensors [c]")
                            && m.contains("unexpected tensors the model does not use [b, extra]"),
                    m);
        }
    }

    @Test
    void openDirectoryWithModelSafetensors() throws IOException {
        write(tmp.resolve("model.safetensors"), f32("w", new float[] {3}, 1));
        try (SafeTensorsCheckpoint ck = SafeTensorsCheckpoint.open(tmp)) {
            assertArrayEquals(new float[] {3}, ck.tensor("w").data);
        }
    }

    @Test
    void emptyDirectoryFailsSayingWhatIsExpected() {
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensorsCheckpoint.open(tmp));
        assertMentions(e, tmp.toString(), "model.safetensors");
    }

    private void writeIndex(String weightMapJson) throws IOException {
        Files.writeString(
                tmp.resolve("model.safetensors.index.json"),
                "{\"metadata\":{\"total_size\":16},\"weight_map\":" + weightMapJson + "}");
    }

    @Test
    void shardedIndex() throws IOException {
        write(
                tmp.resolve("model-00001-of-00002.safetensors"),
                f32("a", new float[] {1, 2}, 2),
                f32("b", new float[] {3}, 1));
        write(tmp.resolve("model-00002-of-00002.safetensors"), bits16("c", "BF16", new int[] {0x3F80, 0xC000}, 2));
        writeIndex("{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00001-of-00002.safetensors\","
                + "\"c\":\"model-00002-of-00002.safetensors\"}");
        try (SafeTensorsCheckpoint ck = SafeTensorsCheckpoint.open(tmp)) {
            assertEquals(Set.of("a", "b", "c"), ck.names());
            assertTrue(ck.source().endsWith("model.safetensors.index.json"));
            assertArrayEquals(new float[] {1, 2}, ck.tensor("a").data);
            assertArrayEquals(new float[] {3}, ck.tensor("b").data);
            assertArrayEquals(new float[] {1, -2}, ck.tensor("c").data);
        }
    }

    @Test
    void shardedMissingShardIsNamed() throws IOException {
        write(tmp.resolve("model-00001-of-00002.safetensors"), f32("a", new float[] {1}, 1));
        writeIndex("{\"a\":\"model-00001-of-00002.safetensors\",\"c\":\"model-00002-of-00002.safetensors\"}");
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensorsCheckpoint.open(tmp));
        assertMentions(e, "model-00002-of-00002.safetensors", "'c'", "model.safetensors.index.json");
    }

    @Test
    void shardedIndexNamingAbsentTensorOrEscapingPathFails() throws IOException {
        write(tmp.resolve("s1.safetensors"), f32("a", new float[] {1}, 1));
        writeIndex("{\"a\":\"s1.safetensors\",\"zz\":\"s1.safetensors\"}");
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensorsCheckpoint.open(tmp));
        assertMentions(e, "'zz'", "s1.safetensors");

        writeIndex("{\"a\":\"../elsewhere.safetensors\"}");
        e = assertThrows(CheckpointException.class, () -> SafeTensorsCheckpoint.open(tmp));
        assertMentions(e, "../elsewhere.safetensors");

        writeIndex("[1,2]");
        e = assertThrows(CheckpointException.class, () -> SafeTensorsCheckpoint.open(tmp));
        assertMentions(e, "weight_map");
    }

    // ------------------------------------------------------------ hostile files

    private CheckpointException rejects(Path f, String... mustContain) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> {
            try (SafeTensorsCheckpoint ck = SafeTensorsCheckpoint.open(f)) {
                for (String n : ck.names()) ck.tensor(n);
            }
        });
        assertMentions(e, f.toString());
        assertMentions(e, mustContain);
        return e;
    }

    private Path header(String name, String header, int dataBytes) throws IOException {
        return writeRaw(tmp.resolve(name), header, new byte[dataBytes]);
    }

    @Test
    void truncatedFileNamesTheTensor() throws IOException {
        Path f = write(tmp.resolve("t.safetensors"), f32("first", new float[4], 4), f32("second", new float[4], 4));
        truncate(f, Files.size(f) - 5);
        rejects(f, "'second'", "truncated");
        truncate(f, 5);
        rejects(f, "too short");
        truncate(f, 0);
        rejects(f);
    }

    @Test
    void hugeHeaderLengthFailsBeforeAllocating() throws IOException {
        // would be 4 EiB if believed; also the "negative" u64 case and just over the 100 MiB cap
        rejects(
                writeWithLength(tmp.resolve("h1.safetensors"), 1L << 62, "{}".getBytes(), new byte[0]),
                "header length");
        rejects(
                writeWithLength(tmp.resolve("h2.safetensors"), -1L, "{}".getBytes(), new byte[0]),
                "18446744073709551615");
        rejects(
                writeWithLength(tmp.resolve("h3.safetensors"), (100L << 20) + 1, "{}".getBytes(), new byte[0]),
                "header length");
    }

    @Test
    void headerLengthBeyondFileIsTruncation() throws IOException {
        rejects(
                writeWithLength(tmp.resolve("h.safetensors"), 1000, "{}".getBytes(), new byte[10]),
                "1000",
                "truncated");
    }

    @Test
    void headerNotJsonOrNotObject() throws IOException {
        rejects(header("j1.safetensors", "this is not json", 0), "not valid JSON");
        rejects(header("j2.safetensors", "{\"a\":{\"dtype\":\"F32\"", 0), "not valid JSON");
        rejects(header("j3.safetensors", "[1,2,3]", 0), "JSON object");
        rejects(header("j4.safetensors", "{\"a\":5}", 0), "'a'");
        rejects(
                header(
                        "j5.safetensors",
                        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                        8),
                "a");
        byte[] bad = {(byte) 0xff, (byte) 0xfe, 0, 1};
        rejects(writeWithLength(tmp.resolve("j6.safetensors"), bad.length, bad, new byte[0]));
    }

    @Test
    void lyingOffsetsAreRejectedNamingTheTensor() throws IOException {
        rejects(
                header("o1.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8),
                "'w'",
                "truncated");
        rejects(
                header("o2.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,12]}}", 16),
                "'w'",
                "needs 16");
        rejects(
                header("o3.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 16),
                "'w'");
        rejects(
                header("o4.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 16),
                "'w'");
        rejects(
                header("o5.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 16),
                "'w'",
                "data_offsets");
        rejects(
                header("o6.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,1e400]}}", 16),
                "'w'");
        rejects(
                header(
                        "o7.safetensors",
                        "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,99999999999999999999999]}}",
                        16),
                "'w'");
    }

    @Test
    void overlappingTensorsAreRejected() throws IOException {
        rejects(
                header(
                        "ov.safetensors",
                        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                        12),
                "'a'",
                "'b'",
                "overlap");
    }

    @Test
    void badShapesAreRejected() throws IOException {
        rejects(
                header("s1.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1,4],\"data_offsets\":[0,0]}}", 0),
                "'w'",
                "non-negative");
        rejects(
                header("s2.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,10]}}", 10),
                "'w'");
        rejects(
                header(
                        "s3.safetensors",
                        "{\"w\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],"
                                + "\"data_offsets\":[0,4]}}",
                        4),
                "'w'",
                "overflow");
        rejects(
                header(
                        "s4.safetensors",
                        "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296],\"data_offsets\":[0,4]}}",
                        4),
                "'w'");
        rejects(
                header("s5.safetensors", "{\"w\":{\"dtype\":\"Q4_K\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                "'w'",
                "Q4_K");
        rejects(
                header("s6.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":\"big\",\"data_offsets\":[0,4]}}", 4),
                "'w'",
                "shape");
    }

    @Test
    void tensorTooLargeForAJavaArrayFailsWithoutAllocating() throws IOException {
        // a sparse file claims 2^31 F16 values (4 GiB of zeros on disk that are never written)
        long n = 1L << 31;
        Path f = tmp.resolve("sparse.safetensors");
        String h = "{\"w\":{\"dtype\":\"F16\",\"shape\":[2," + n / 2 + "],\"data_offsets\":[0," + (2 * n) + "]}}";
        byte[] hb = h.getBytes(StandardCharsets.UTF_8);
        writeWithLength(f, hb.length, hb, new byte[0]);
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            r.setLength(8 + hb.length + 2 * n);
        }
        assertListedButNotReadable(f, "w", new int[] {2, (int) (n / 2)}, "float[]");
    }

    @Test
    void readsAfterCloseFailCleanly() throws IOException {
        Path f = write(tmp.resolve("c.safetensors"), f32("w", new float[] {1}, 1));
        SafeTensorsCheckpoint ck = SafeTensorsCheckpoint.open(f);
        ck.close();
        CheckpointException e = assertThrows(CheckpointException.class, () -> ck.tensor("w"));
        assertMentions(e, f.toString());
    }

    @Test
    void interruptedReaderDoesNotBreakOtherReaders() throws Exception {
        Path f = write(tmp.resolve("i.safetensors"), f32("w", new float[] {5, 6}, 2));
        try (SafeTensorsCheckpoint ck = SafeTensorsCheckpoint.open(f)) {
            // the reader thread reports what happened; asserting inside it would never reach JUnit
            CompletableFuture<Throwable> seen = new CompletableFuture<>();
            Thread t = new Thread(() -> {
                Thread.currentThread().interrupt();
                try {
                    ck.tensor("w");
                    seen.complete(null);
                } catch (Throwable e) {
                    seen.complete(e);
                }
            });
            t.start();
            t.join();
            Throwable e = seen.get();
            assertInstanceOf(
                    CheckpointException.class, e, "an interrupted read must fail with CheckpointException, got " + e);
            assertArrayEquals(new float[] {5, 6}, ck.tensor("w").data);
        }
    }

    @Test
    void garbageNeverEscapesAsAnotherException() throws IOException {
        // random mutations of a valid file: each must open and read, or fail with CheckpointException
        Path good = write(
                tmp.resolve("g.safetensors"),
                f32("a", new float[] {1, 2, 3}, 3),
                bits16("b", "F16", new int[] {1, 2}, 2));
        byte[] orig = Files.readAllBytes(good);
        Random rnd = new Random(7);
        Path f = tmp.resolve("mut.safetensors");
        for (int iter = 0; iter < 500; iter++) {
            byte[] b = orig.clone();
            for (int k = 0; k < 1 + rnd.nextInt(4); k++) b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
            Files.write(f, rnd.nextInt(5) == 0 ? Arrays.copyOf(b, rnd.nextInt(b.length)) : b);
            try (SafeTensorsCheckpoint ck = SafeTensorsCheckpoint.open(f)) {
                for (String n : List.copyOf(ck.names())) ck.tensor(n);
            } catch (CheckpointException expected) {
                assertMentions(expected, f.toString());
            }
        }
    }
}
