package attnspark.checkpoint;

import attnspark.tensor.FloatTensor;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Hugging Face safetensors: an 8-byte little-endian header length, a JSON header
 * {name: {dtype, shape, data_offsets}}, then the data section. Everything in the header is
 * treated as hostile: sizes are checked against the file before anything is allocated, and
 * every tensor's extent is checked against its dtype and shape and against its neighbours.
 * Values are read lazily with positional reads, in bounded chunks.
 */
public final class SafeTensorsCheckpoint implements Checkpoint {
    static final long MAX_HEADER_BYTES = 100L << 20;
    /** The largest float[] HotSpot reliably allocates. */
    static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private static final int CHUNK = 1 << 20;
    private static final Map<String, Integer> DTYPE_SIZES = Map.ofEntries(
            Map.entry("F64", 8),
            Map.entry("F32", 4),
            Map.entry("F16", 2),
            Map.entry("BF16", 2),
            Map.entry("I64", 8),
            Map.entry("I32", 4),
            Map.entry("I16", 2),
            Map.entry("I8", 1),
            Map.entry("U64", 8),
            Map.entry("U32", 4),
            Map.entry("U16", 2),
            Map.entry("U8", 1),
            Map.entry("BOOL", 1),
            Map.entry("F8_E4M3", 1),
            Map.entry("F8_E5M2", 1));
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final String source;
    private final Map<String, Entry> entries;
    private final List<Shard> shards;

    private SafeTensorsCheckpoint(String source, Map<String, Entry> entries, List<Shard> shards) {
        this.source = source;
        this.entries = entries;
        this.shards = shards;
    }

    /**
     * A {@code .safetensors} file, a directory holding {@code model.safetensors}, a directory holding
     * a sharded {@code model.safetensors.index.json}, or a directory with exactly one {@code *.safetensors}.
     */
    public static SafeTensorsCheckpoint open(Path path) {
        if (Files.isDirectory(path)) {
            Path single = path.resolve("model.safetensors");
            if (ModelFiles.exists(single)) return openFile(single);
            Path index = path.resolve("model.safetensors.index.json");
            if (ModelFiles.exists(index)) return openSharded(index);
            List<Path> found = ModelFiles.glob(path, "*.safetensors", "safetensors file");
            if (found.size() == 1) return openFile(found.get(0));
            throw new CheckpointException(path + ": no model.safetensors or model.safetensors.index.json"
                    + (found.isEmpty() ? "" : " and several *.safetensors files " + ModelFiles.capped(found))
                    + "; point at the model directory as downloaded from Hugging Face (safetensors weights).");
        }
        if (!ModelFiles.exists(path)) {
            throw new CheckpointException(
                    path + ": no such file or directory; expected a .safetensors file or a model directory.");
        }
        if (path.getFileName().toString().endsWith(".json")) return openSharded(path);
        return openFile(path);
    }

    private static SafeTensorsCheckpoint openFile(Path file) {
        Shard shard = Shard.open(file);
        try {
            return new SafeTensorsCheckpoint(
                    file.toString(), Collections.unmodifiableMap(shard.entries), List.of(shard));
        } catch (RuntimeException e) {
            shard.close();
            throw e;
        }
    }

    private static SafeTensorsCheckpoint openSharded(Path index) {
        JsonNode root = readSmallJson(index);
        JsonNode map = root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new CheckpointException(
                    index + ": no \"weight_map\" object (tensor name -> shard file); the index file is corrupt.");
        }
        Path dir = index.toAbsolutePath().getParent();
        Map<String, String> weightMap = new LinkedHashMap<>();
        Map<String, List<String>> byShard = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new CheckpointException(index + ": weight_map entry for tensor '" + e.getKey() + "' is "
                        + e.getValue().getNodeType() + ", expected a shard file name.");
            }
            weightMap.put(e.getKey(), e.getValue().asText());
            byShard.computeIfAbsent(e.getValue().asText(), k -> new ArrayList<>())
                    .add(e.getKey());
        }
        List<Shard> shards = new ArrayList<>();
        try {
            Map<String, Shard> open = new LinkedHashMap<>();
            for (Map.Entry<String, List<String>> s : byShard.entrySet()) {
                String shardName = s.getKey();
                Path p = dir.resolve(shardName).normalize();
                // The index is input too: it must not send us reading files outside the model directory.
                if (!p.startsWith(dir.normalize()) || shardName.isEmpty()) {
                    throw new CheckpointException(index + ": shard '" + shardName + "' (for tensor '"
                            + s.getValue().get(0) + "') is not a file inside " + dir
                            + "; the index file is corrupt or hostile.");
                }
                if (!ModelFiles.exists(p)) {
                    throw new CheckpointException(index + ": shard file '" + shardName + "' (holding "
                            + s.getValue().size()
                            + " tensors, e.g. '" + s.getValue().get(0) + "') is missing: " + p
                            + " does not exist. Download every shard named in weight_map.");
                }
                Shard shard = Shard.open(p);
                shards.add(shard);
                open.put(shardName, shard);
            }
            Map<String, Entry> entries = new LinkedHashMap<>();
            for (Map.Entry<String, String> w : weightMap.entrySet()) {
                Shard shard = open.get(w.getValue());
                Entry e = shard.entries.get(w.getKey());
                if (e == null) {
                    throw new CheckpointException(
                            index + ": weight_map puts tensor '" + w.getKey() + "' in " + shard.file
                                    + " but that shard has no such tensor (it has " + shard.entries.size()
                                    + "); the shards and the index come from different downloads.");
                }
                entries.put(w.getKey(), e);
            }
            return new SafeTensorsCheckpoint(
                    index.toString(), Collections.unmodifiableMap(entries), List.copyOf(shards));
        } catch (RuntimeException e) {
            for (Shard s : shards) s.close();
            throw e;
        }
    }

    private static JsonNode readSmallJson(Path file) {
        try {
            JsonNode root = JSON.readTree(ModelFiles.readAll(file, MAX_HEADER_BYTES, "safetensors index"));
            if (root == null || !root.isObject()) {
                throw new CheckpointException(file + ": expected a JSON object, found "
                        + (root == null ? "nothing" : root.getNodeType()) + "; the index file is corrupt.");
            }
            return root;
        } catch (JsonProcessingException e) {
            throw new CheckpointException(
                    file + ": not valid JSON (" + ModelFiles.oneLine(e) + "); the index file is corrupt.", e);
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read (" + e + ")", e);
        }
    }

    @Override
    public String source() {
        return source;
    }

    @Override
    public Set<String> names() {
        return entries.keySet();
    }

    @Override
    public int[] shape(String name) {
        return entry(name).shape.clone();
    }

    /** The safetensors dtype string (F32, BF16, I64, ...). */
    public String dtype(String name) {
        return entry(name).dtype;
    }

    private Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) throw CheckpointException.unknownTensor(source, name, entries.keySet());
        return e;
    }

    @Override
    public FloatTensor tensor(String name) {
        Entry e = entry(name);
        return new FloatTensor(e.shard.readFloats(e), e.shape);
    }

    @Override
    public void close() {
        for (Shard s : shards) s.close();
    }

    @Override
    public String toString() {
        return "SafeTensorsCheckpoint[" + source + ", " + entries.size() + " tensors]";
    }

    private record Entry(String name, String dtype, int[] shape, long numel, long begin, long end, Shard shard) {}

    /** One .safetensors file: its channel, where its data section starts, and its validated header. */
    private static final class Shard {
        final Path file;
        final long dataStart;
        final long dataLength;
        final Map<String, Entry> entries = new LinkedHashMap<>();
        private volatile FileChannel channel;
        private volatile boolean closed;

        private Shard(Path file, FileChannel channel, long dataStart, long dataLength) {
            this.file = file;
            this.channel = channel;
            this.dataStart = dataStart;
            this.dataLength = dataLength;
        }

        static Shard open(Path file) {
            ModelFiles.requireRegularFile(file, "safetensors file");
            FileChannel ch;
            try {
                ch = FileChannel.open(file, StandardOpenOption.READ);
            } catch (IOException e) {
                throw new CheckpointException(file + ": cannot open (" + e + ")", e);
            }
            try {
                long size = size(ch, file);
                if (size < 8) {
                    throw new CheckpointException(file + ": only " + size + " bytes, too short for a safetensors file "
                            + "(8-byte header length first); the file is truncated or not safetensors.");
                }
                ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
                readFully(ch, lenBuf, 0, file, "header length");
                long headerLen = lenBuf.getLong(0);
                // Unsigned u64: a "negative" long is a length above 2^63, hostile either way; checked before
                // allocating.
                if (headerLen < 0 || headerLen > MAX_HEADER_BYTES) {
                    throw new CheckpointException(
                            file + ": header length " + Long.toUnsignedString(headerLen) + " bytes exceeds the "
                                    + MAX_HEADER_BYTES + "-byte limit; the file is corrupt or not safetensors.");
                }
                if (headerLen > size - 8) {
                    throw new CheckpointException(
                            file + ": header length " + headerLen + " bytes but the file has only " + (size - 8)
                                    + " bytes after the length; the file is truncated (re-download it) or not safetensors.");
                }
                ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
                readFully(ch, hb, 8, file, "header");
                Shard s = new Shard(file, ch, 8 + headerLen, size - 8 - headerLen);
                s.parseHeader(hb.array());
                return s;
            } catch (RuntimeException e) {
                closeQuietly(ch);
                throw e;
            }
        }

        private void parseHeader(byte[] header) {
            JsonNode root;
            try {
                root = JSON.readTree(header);
            } catch (IOException e) {
                String msg = ModelFiles.oneLine(e);
                throw new CheckpointException(
                        file + ": header is not valid JSON (" + msg + "); the file is corrupt or not safetensors.", e);
            }
            if (root == null || !root.isObject()) {
                throw new CheckpointException(file + ": header must be a JSON object, found "
                        + (root == null ? "nothing" : root.getNodeType())
                        + "; the file is corrupt or not safetensors.");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (f.getKey().equals("__metadata__")) continue;
                Entry e = parseEntry(f.getKey(), f.getValue());
                entries.put(e.name, e);
            }
            checkNoOverlap();
        }

        private Entry parseEntry(String name, JsonNode n) {
            String where = file + ": tensor '" + name + "'";
            if (!n.isObject())
                throw new CheckpointException(
                        where + ": header entry is " + n.getNodeType() + ", expected an object; the file is corrupt.");
            JsonNode dt = n.get("dtype");
            if (dt == null || !dt.isTextual())
                throw new CheckpointException(where + ": missing or non-string \"dtype\"; the file is corrupt.");
            String dtype = dt.asText();
            Integer esize = DTYPE_SIZES.get(dtype);
            if (esize == null) {
                throw new CheckpointException(where + ": unknown dtype '" + dtype + "', expected one of "
                        + new TreeMap<>(DTYPE_SIZES).keySet() + "; the file is corrupt or from a newer safetensors.");
            }
            JsonNode sh = n.get("shape");
            if (sh == null || !sh.isArray())
                throw new CheckpointException(where + ": missing \"shape\" array; the file is corrupt.");
            int[] shape = new int[sh.size()];
            long numel = 1;
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = sh.get(i);
                if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                    throw new CheckpointException(where + ": shape " + sh + " has dimension " + d
                            + ", expected a non-negative integer; the file is corrupt.");
                }
                if (d.asLong() > Integer.MAX_VALUE) {
                    throw new CheckpointException(
                            where + ": shape " + sh + " has a dimension above 2^31-1, which this reader cannot index.");
                }
                shape[i] = (int) d.asLong();
                try {
                    numel = Math.multiplyExact(numel, shape[i]);
                } catch (ArithmeticException ex) {
                    throw new CheckpointException(
                            where + ": shape " + sh + " overflows 64-bit element counts; the file is corrupt.");
                }
            }
            long bytes;
            try {
                bytes = Math.multiplyExact(numel, (long) esize);
            } catch (ArithmeticException ex) {
                throw new CheckpointException(where + ": shape " + sh + " of " + dtype
                        + " overflows 64-bit byte counts; the file is corrupt.");
            }
            JsonNode off = n.get("data_offsets");
            if (off == null || !off.isArray() || off.size() != 2 || !isLong(off.get(0)) || !isLong(off.get(1))) {
                throw new CheckpointException(where + ": \"data_offsets\" must be [begin, end] integers, found " + off
                        + "; the file is corrupt.");
            }
            long begin = off.get(0).asLong(), end = off.get(1).asLong();
            if (begin < 0 || end < begin) {
                throw new CheckpointException(where + ": data_offsets [" + begin + ", " + end
                        + "] are not 0 <= begin <= end; the file is corrupt.");
            }
            if (end > dataLength) {
                throw new CheckpointException(where + ": data_offsets [" + begin + ", " + end
                        + "] reach past the data section, which has only " + dataLength
                        + " bytes; the file is truncated (re-download it) or corrupt.");
            }
            if (end - begin != bytes) {
                throw new CheckpointException(where + ": data_offsets [" + begin + ", " + end + "] span "
                        + (end - begin) + " bytes but shape " + Arrays.toString(shape) + " of " + dtype + " needs "
                        + bytes + "; the file is corrupt.");
            }
            return new Entry(name, dtype, shape, numel, begin, end, this);
        }

        private static boolean isLong(JsonNode n) {
            return n != null && n.isIntegralNumber() && n.canConvertToLong();
        }

        private void checkNoOverlap() {
            List<Entry> sorted = new ArrayList<>(entries.values());
            sorted.sort((a, b) -> a.begin != b.begin ? Long.compare(a.begin, b.begin) : Long.compare(a.end, b.end));
            Entry prev = null;
            for (Entry e : sorted) {
                if (e.begin == e.end) continue; // empty tensors occupy no bytes
                if (prev != null && e.begin < prev.end) {
                    throw new CheckpointException(file + ": tensors '" + prev.name + "' [" + prev.begin + ", "
                            + prev.end + ") and '" + e.name + "' [" + e.begin + ", " + e.end
                            + ") overlap in the data section; the file is corrupt or hostile.");
                }
                prev = e;
            }
        }

        float[] readFloats(Entry e) {
            String where = file + ": tensor '" + e.name + "'";
            if (!e.dtype.equals("F32") && !e.dtype.equals("F16") && !e.dtype.equals("BF16")) {
                throw new CheckpointException(where + " has dtype " + e.dtype + ", which cannot be read as float "
                        + "(F32, F16 and BF16 can); the model should not ask for it as a weight.");
            }
            if (e.numel > MAX_ARRAY) {
                throw new CheckpointException(where + " has " + e.numel + " elements (shape " + Arrays.toString(e.shape)
                        + "), more than one Java float[] can hold (" + MAX_ARRAY + ").");
            }
            int esize = DTYPE_SIZES.get(e.dtype);
            float[] out = new float[(int) e.numel];
            long total = e.end - e.begin;
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(CHUNK, Math.max(total, 1)))
                    .order(ByteOrder.LITTLE_ENDIAN);
            long done = 0;
            int idx = 0;
            while (done < total) {
                buf.clear();
                buf.limit((int) Math.min(buf.capacity(), total - done));
                readFully(channel(), buf, dataStart + e.begin + done, file, "tensor '" + e.name + "'");
                buf.flip();
                int count = buf.remaining() / esize;
                switch (e.dtype) {
                    case "F32" -> buf.asFloatBuffer().get(out, idx, count);
                    case "F16" -> {
                        for (int i = 0; i < count; i++) out[idx + i] = Half.f16ToF32(buf.getShort(i * 2));
                    }
                    default -> {
                        for (int i = 0; i < count; i++) out[idx + i] = Half.bf16ToF32(buf.getShort(i * 2));
                    }
                }
                idx += count;
                done += buf.remaining();
            }
            return out;
        }

        /**
         * An interrupted thread (a cancelled Spark task) closes a FileChannel for every thread
         * sharing it; reopen it so one cancellation does not break the executor's other tasks.
         */
        private FileChannel channel() {
            FileChannel ch = channel;
            if (ch.isOpen()) return ch;
            synchronized (this) {
                if (closed)
                    throw new CheckpointException(file + ": checkpoint already closed; open it again to read tensors.");
                if (!channel.isOpen()) {
                    try {
                        channel = FileChannel.open(file, StandardOpenOption.READ);
                    } catch (IOException ex) {
                        throw new CheckpointException(file + ": cannot reopen (" + ex + ")", ex);
                    }
                }
                return channel;
            }
        }

        private static long size(FileChannel ch, Path file) {
            try {
                return ch.size();
            } catch (IOException e) {
                throw new CheckpointException(file + ": cannot read its size (" + e + ")", e);
            }
        }

        private static void readFully(FileChannel ch, ByteBuffer buf, long pos, Path file, String what) {
            try {
                long p = pos;
                while (buf.hasRemaining()) {
                    int n = ch.read(buf, p);
                    if (n < 0) {
                        throw new CheckpointException(file + ": file ends at byte " + p + " while reading " + what
                                + " (it shrank after opening, or is truncated); re-download it.");
                    }
                    p += n;
                }
            } catch (ClosedByInterruptException ex) {
                throw new CheckpointException(file + ": reading " + what + " was interrupted", ex);
            } catch (IOException ex) {
                throw new CheckpointException(file + ": cannot read " + what + " (" + ex + ")", ex);
            }
        }

        synchronized void close() {
            closed = true;
            closeQuietly(channel);
        }

        private static void closeQuietly(FileChannel ch) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // nothing useful to do: the data was only read
            }
        }
    }
}
