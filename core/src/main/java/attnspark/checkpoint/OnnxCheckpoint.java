package attnspark.checkpoint;

import attnspark.tensor.FloatTensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Weights of an ONNX export (typically a BERT-family encoder from torch.onnx / optimum), read
 * with a hand-written protobuf walker, and renamed back to the Hugging Face names and layouts
 * the models expect. Exporters keep most weights under their HF names but constant-fold each
 * nn.Linear weight into a transposed (in, out) initializer called {@code onnx::MatMul_N}; those
 * are recovered from the graph: the MatMul's bias Add names the layer, else the node's name does.
 * Only initializers are read; the graph itself is not executed.
 */
public final class OnnxCheckpoint implements Checkpoint {
    static final int FLOAT = 1, INT32 = 6, INT64 = 7, FLOAT16 = 10, DOUBLE = 11, BFLOAT16 = 16;
    private static final long MAX_FILE = Integer.MAX_VALUE - 8;

    private final String source;
    private volatile byte[] file;
    private final Map<String, Init> initializers = new LinkedHashMap<>();
    private final List<Node> nodes = new ArrayList<>();
    private final List<String> inputs = new ArrayList<>();
    private final List<String> outputs = new ArrayList<>();
    private final Map<String, View> views = new LinkedHashMap<>();

    private OnnxCheckpoint(String source, byte[] file) {
        this.source = source;
        this.file = file;
    }

    public static OnnxCheckpoint open(Path onnxFile) {
        String src = onnxFile.toString();
        ModelFiles.requireRegularFile(onnxFile, "ONNX model");
        long size;
        try {
            size = Files.size(onnxFile);
        } catch (IOException e) {
            throw new CheckpointException(src + ": cannot read (" + e + ")", e);
        }
        // protobuf itself caps messages at 2 GiB; bigger exports use external data, which we do not read
        if (size > MAX_FILE) {
            throw new CheckpointException(
                    src + ": " + size + " bytes is larger than a single-file ONNX model can be (2 GiB); "
                            + "such models keep weights as external data, which is not supported: convert the model to safetensors.");
        }
        byte[] bytes = ModelFiles.readAll(onnxFile, MAX_FILE, "ONNX model");
        OnnxCheckpoint ck = new OnnxCheckpoint(src, bytes);
        ck.parseModel();
        ck.mapNames();
        return ck;
    }

    // ---------------------------------------------------------------- public API

    @Override
    public String source() {
        return source;
    }

    @Override
    public Set<String> names() {
        return Collections.unmodifiableSet(views.keySet());
    }

    @Override
    public int[] shape(String name) {
        return view(name).shape.clone();
    }

    @Override
    public FloatTensor tensor(String name) {
        View v = view(name);
        float[] data = floats(v.init);
        if (v.transpose) {
            int in = v.shape[1], out = v.shape[0];
            float[] t = new float[data.length];
            for (int i = 0; i < in; i++) {
                for (int j = 0; j < out; j++) t[j * in + i] = data[i * out + j];
            }
            data = t;
        }
        return new FloatTensor(data, v.shape);
    }

    /** The initializer name in the file behind a canonical name, for messages and debugging. */
    public String rawName(String name) {
        return view(name).init.name;
    }

    /** Names of the graph's inputs that are not initializers, e.g. input_ids, attention_mask, token_type_ids. */
    public List<String> inputNames() {
        List<String> r = new ArrayList<>();
        for (String i : inputs) if (!initializers.containsKey(i)) r.add(i);
        return r;
    }

    public List<String> outputNames() {
        return Collections.unmodifiableList(outputs);
    }

    public boolean takesTokenTypeIds() {
        return inputNames().contains("token_type_ids");
    }

    /**
     * The number of attention heads, read from the graph's constants since ONNX exports carry no
     * config: the head split is a Reshape to (batch, seq, heads, head_dim) with heads*head_dim =
     * hidden, its shape either one int64 constant or a Concat of scalar constants.
     */
    public int attentionHeads(int hidden) {
        Map<String, long[]> consts = new HashMap<>();
        for (Init i : initializers.values()) {
            if (i.dataType == INT64 && i.numel <= 16) consts.put(i.name, int64s(i));
        }
        for (Node n : nodes) {
            if (n.opType.equals("Constant")
                    && n.outputs.size() == 1
                    && n.tensorAttr != null
                    && n.tensorAttr.dataType == INT64
                    && n.tensorAttr.numel <= 16) {
                consts.put(n.outputs.get(0), int64s(n.tensorAttr));
            }
        }
        Map<String, Node> producer = new HashMap<>();
        for (Node n : nodes) for (String o : n.outputs) producer.put(o, n);
        Map<Integer, Integer> votes = new HashMap<>();
        for (Node n : nodes) {
            if (!n.opType.equals("Reshape") || n.inputs.size() < 2) continue;
            long[] shape = consts.get(n.inputs.get(1));
            if (shape == null) shape = concatOfScalars(producer.get(n.inputs.get(1)), consts, producer);
            if (shape == null || shape.length != 4) continue;
            long h = shape[2], d = shape[3];
            if (h > 0 && d > 0 && h * d == hidden) votes.merge((int) h, 1, Integer::sum);
        }
        return votes.entrySet().stream()
                .max(Map.Entry.comparingByValue())
                .map(Map.Entry::getKey)
                .orElseThrow(
                        () -> new CheckpointException(source + ": cannot find the attention head count in the graph "
                                + "(no Reshape to (batch, seq, heads, head_dim) with heads*head_dim = " + hidden
                                + "); put a config.json with num_attention_heads beside the model."));
    }

    /** A Concat whose inputs are scalar or 1-element constants (possibly via Unsqueeze); unknown parts become -1. */
    private static long[] concatOfScalars(Node concat, Map<String, long[]> consts, Map<String, Node> producer) {
        if (concat == null || !concat.opType.equals("Concat")) return null;
        long[] r = new long[concat.inputs.size()];
        for (int k = 0; k < r.length; k++) {
            String in = concat.inputs.get(k);
            long[] c = consts.get(in);
            Node p = producer.get(in);
            if (c == null && p != null && p.opType.equals("Unsqueeze") && !p.inputs.isEmpty())
                c = consts.get(p.inputs.get(0));
            r[k] = c != null && c.length == 1 ? c[0] : -1;
        }
        return r;
    }

    @Override
    public void close() {
        file = null;
    }

    @Override
    public String toString() {
        return "OnnxCheckpoint[" + source + ", " + views.size() + " tensors]";
    }

    // ---------------------------------------------------------------- parsing

    private static final class Init {
        String name = "";
        long[] dims = new long[0];
        int[] shape;
        long numel;
        int dataType;
        int rawOffset = -1;
        int rawLength;
        FloatList floatData;
        LongList int32Data;
        LongList int64Data;
        boolean external;
    }

    private static final class Node {
        String name = "";
        String opType = "";
        final List<String> inputs = new ArrayList<>();
        final List<String> outputs = new ArrayList<>();
        Init tensorAttr; // Constant's "value"
        long transB; // Gemm's "transB"
    }

    private record View(Init init, int[] shape, boolean transpose) {}

    private void parseModel() {
        byte[] b = file;
        ProtoReader r = new ProtoReader(b, 0, b.length, source, "ModelProto");
        boolean graph = false;
        while (r.next()) {
            if (r.field == 7) {
                parseGraph(r.message("GraphProto"));
                graph = true;
            } else {
                r.skip();
            }
        }
        if (!graph) {
            throw new CheckpointException(
                    source + ": no graph found (ModelProto field 7); the file is not an ONNX model or is truncated.");
        }
    }

    private void parseGraph(ProtoReader r) {
        while (r.next()) {
            switch (r.field) {
                case 1 -> nodes.add(parseNode(r.message("NodeProto")));
                case 5 -> {
                    Init t = parseTensor(r.message("initializer TensorProto"));
                    if (initializers.put(t.name, t) != null) {
                        throw new CheckpointException(
                                source + ": initializer '" + t.name + "' appears twice; the file is corrupt.");
                    }
                }
                case 11 -> inputs.add(valueInfoName(r.message("graph input ValueInfoProto")));
                case 12 -> outputs.add(valueInfoName(r.message("graph output ValueInfoProto")));
                default -> r.skip();
            }
        }
    }

    private static String valueInfoName(ProtoReader r) {
        String name = "";
        while (r.next()) {
            if (r.field == 1) name = r.string();
            else r.skip();
        }
        return name;
    }

    private Node parseNode(ProtoReader r) {
        Node n = new Node();
        while (r.next()) {
            switch (r.field) {
                case 1 -> n.inputs.add(r.string());
                case 2 -> n.outputs.add(r.string());
                case 3 -> n.name = r.string();
                case 4 -> n.opType = r.string();
                case 5 -> parseAttribute(r.message("AttributeProto"), n);
                default -> r.skip();
            }
        }
        return n;
    }

    private void parseAttribute(ProtoReader r, Node n) {
        String name = "";
        Init t = null;
        long i = 0;
        while (r.next()) {
            switch (r.field) {
                case 1 -> name = r.string();
                case 3 -> {
                    r.expect(ProtoReader.VARINT);
                    i = r.varint();
                }
                case 5 -> t = parseTensor(r.message("attribute TensorProto"));
                default -> r.skip();
            }
        }
        if (name.equals("value") && t != null) n.tensorAttr = t;
        if (name.equals("transB")) n.transB = i;
    }

    private Init parseTensor(ProtoReader r) {
        Init t = new Init();
        LongList dims = new LongList();
        int[] len = new int[1];
        while (r.next()) {
            switch (r.field) {
                case 1 -> readLongs(r, dims);
                case 2 -> {
                    r.expect(ProtoReader.VARINT);
                    t.dataType = (int) r.varint();
                }
                case 4 -> {
                    if (t.floatData == null) t.floatData = new FloatList();
                    if (r.wire == ProtoReader.LEN) {
                        ProtoReader p = r.message("packed float_data");
                        while (p.remaining() > 0) t.floatData.add(Float.intBitsToFloat(p.fixed32()));
                    } else {
                        r.expect(ProtoReader.FIXED32);
                        t.floatData.add(Float.intBitsToFloat(r.fixed32()));
                    }
                }
                case 5 -> {
                    if (t.int32Data == null) t.int32Data = new LongList();
                    readLongs(r, t.int32Data);
                }
                case 7 -> {
                    if (t.int64Data == null) t.int64Data = new LongList();
                    readLongs(r, t.int64Data);
                }
                case 8 -> t.name = r.string();
                case 9 -> {
                    t.rawOffset = r.bytes(len);
                    t.rawLength = len[0];
                }
                case 13 -> {
                    t.external = true;
                    r.skip();
                }
                case 14 -> {
                    r.expect(ProtoReader.VARINT);
                    if (r.varint() == 1) t.external = true;
                }
                default -> r.skip();
            }
        }
        t.dims = dims.toArray();
        t.shape = new int[t.dims.length];
        long numel = 1;
        for (int k = 0; k < t.dims.length; k++) {
            long d = t.dims[k];
            if (d < 0 || d > Integer.MAX_VALUE) {
                throw new CheckpointException(source + ": tensor '" + t.name + "' has dimension " + d + " in dims "
                        + Arrays.toString(t.dims) + ", expected 0..2^31-1; the file is corrupt.");
            }
            t.shape[k] = (int) d;
            try {
                numel = Math.multiplyExact(numel, d);
            } catch (ArithmeticException e) {
                throw new CheckpointException(source + ": tensor '" + t.name + "' dims " + Arrays.toString(t.dims)
                        + " overflow 64-bit element counts; the file is corrupt.");
            }
        }
        t.numel = numel;
        return t;
    }

    /** A repeated integer field, packed (LEN) or one value per tag. */
    private static void readLongs(ProtoReader r, LongList out) {
        if (r.wire == ProtoReader.LEN) {
            ProtoReader p = r.message("packed integers");
            while (p.remaining() > 0) out.add(p.varint());
        } else {
            r.expect(ProtoReader.VARINT);
            out.add(r.varint());
        }
    }

    // ---------------------------------------------------------------- names

    private static String stripBert(String n) {
        return n.startsWith("bert.") ? n.substring(5) : n;
    }

    private static boolean isFloat(Init i) {
        return i.dataType == FLOAT || i.dataType == FLOAT16 || i.dataType == BFLOAT16;
    }

    private void mapNames() {
        Map<String, List<Node>> consumers = new HashMap<>();
        for (Node n : nodes)
            for (String in : n.inputs)
                consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
        // raw initializer name -> (HF name, whether stored as (in, out))
        Map<String, String> linearName = new LinkedHashMap<>();
        Map<String, Boolean> transposed = new HashMap<>();
        for (Node n : nodes) {
            boolean matmul = n.opType.equals("MatMul");
            boolean gemm = n.opType.equals("Gemm");
            if ((!matmul && !gemm) || n.inputs.size() < 2 || n.outputs.isEmpty()) continue;
            Init w = initializers.get(n.inputs.get(1));
            if (w == null || !isFloat(w) || w.shape.length != 2 || linearName.containsKey(w.name)) continue;
            boolean inOut = matmul || n.transB == 0;
            int out = inOut ? w.shape[1] : w.shape[0];
            String layer = null;
            if (gemm && n.inputs.size() >= 3) layer = biasLayer(n.inputs.get(2), out);
            for (Node add : consumers.getOrDefault(n.outputs.get(0), List.of())) {
                if (layer != null || !add.opType.equals("Add")) continue;
                for (String other : add.inputs) {
                    if (!other.equals(n.outputs.get(0)) && layer == null) layer = biasLayer(other, out);
                }
            }
            if (layer == null) layer = layerFromNodeName(n.name);
            if (layer == null) continue;
            linearName.put(w.name, layer + ".weight");
            transposed.put(w.name, inOut);
        }
        // Plain initializers first so that a renamed weight never shadows a tensor stored under that name.
        List<Init> renamed = new ArrayList<>();
        for (Init i : initializers.values()) {
            if (!isFloat(i)) continue;
            if (linearName.containsKey(i.name)) renamed.add(i);
            else views.putIfAbsent(stripBert(i.name), new View(i, i.shape, false));
        }
        for (Init i : renamed) {
            String hf = linearName.get(i.name);
            boolean t = transposed.get(i.name);
            int[] shape = t ? new int[] {i.shape[1], i.shape[0]} : i.shape;
            if (views.containsKey(hf)) {
                views.putIfAbsent(
                        i.name, new View(i, i.shape, false)); // unmappable: the loader reports it by its raw name
            } else {
                views.put(hf, new View(i, shape, t));
            }
        }
    }

    /** "X" when {@code name} is an initializer "X.bias" of the right length. */
    private String biasLayer(String name, int out) {
        Init b = initializers.get(name);
        String s = stripBert(name);
        if (b == null || !isFloat(b) || !s.endsWith(".bias") || b.numel != out) return null;
        return s.substring(0, s.length() - ".bias".length());
    }

    /** "/encoder/layer.0/attention/self/query/MatMul" -> "encoder.layer.0.attention.self.query". */
    static String layerFromNodeName(String node) {
        if (node == null || !node.startsWith("/")) return null;
        String[] parts = node.substring(1).split("/");
        if (parts.length < 2) return null;
        String last = parts[parts.length - 1];
        if (!last.startsWith("MatMul") && !last.startsWith("Gemm")) return null;
        String layer = String.join(".", Arrays.copyOf(parts, parts.length - 1));
        return layer.isEmpty() ? null : stripBert(layer);
    }

    // ---------------------------------------------------------------- values

    private View view(String name) {
        View v = views.get(name);
        if (v == null) throw CheckpointException.unknownTensor(source, name, views.keySet());
        return v;
    }

    private byte[] bytes() {
        byte[] b = file;
        if (b == null)
            throw new CheckpointException(source + ": checkpoint already closed; open it again to read tensors.");
        return b;
    }

    private float[] floats(Init t) {
        String where = source + ": tensor '" + t.name + "'";
        if (t.external) {
            throw new CheckpointException(
                    where + ": external data not supported (the weights live in a separate file); "
                            + "re-export with all weights inside the .onnx, or use the safetensors checkpoint.");
        }
        if (t.numel > SafeTensorsCheckpoint.MAX_ARRAY) {
            throw new CheckpointException(
                    where + " has " + t.numel + " elements, more than one Java float[] can hold.");
        }
        int n = (int) t.numel;
        // every count is checked against the data actually present before the array is allocated:
        // dims are only a claim, and a lying dims field must not cost gigabytes
        boolean half = t.dataType == FLOAT16 || t.dataType == BFLOAT16;
        if (t.dataType == FLOAT || half) {
            if (t.rawOffset >= 0) {
                checkRaw(t, half ? 2 : 4);
            } else if (t.dataType == FLOAT) {
                int have = t.floatData == null ? 0 : t.floatData.size;
                if (have != n) throw countMismatch(t, "float_data", have);
            } else {
                // ONNX keeps 16-bit floats' bit patterns in int32_data when raw_data is absent
                int have = t.int32Data == null ? 0 : t.int32Data.size;
                if (have != n) throw countMismatch(t, "int32_data", have);
            }
        }
        byte[] b = bytes();
        float[] out;
        switch (t.dataType) {
            case FLOAT -> {
                out = new float[n];
                if (t.rawOffset >= 0) {
                    ByteBuffer.wrap(b, t.rawOffset, t.rawLength)
                            .order(ByteOrder.LITTLE_ENDIAN)
                            .asFloatBuffer()
                            .get(out);
                } else if (n > 0) {
                    System.arraycopy(t.floatData.data, 0, out, 0, n);
                }
            }
            case FLOAT16, BFLOAT16 -> {
                out = new float[n];
                boolean f16 = t.dataType == FLOAT16;
                for (int i = 0; i < n; i++) {
                    int bits = t.rawOffset >= 0
                            ? (b[t.rawOffset + 2 * i] & 0xff) | (b[t.rawOffset + 2 * i + 1] & 0xff) << 8
                            : (int) t.int32Data.data[i];
                    out[i] = f16 ? Half.f16ToF32(bits) : Half.bf16ToF32(bits);
                }
            }
            default ->
                throw new CheckpointException(where + " has ONNX data_type " + t.dataType
                        + ", not a float type (FLOAT=1, FLOAT16=10, BFLOAT16=16); it cannot be read as weights.");
        }
        return out;
    }

    private long[] int64s(Init t) {
        if (t.external)
            throw new CheckpointException(source + ": tensor '" + t.name + "': external data not supported.");
        int n = (int) t.numel;
        if (t.rawOffset >= 0) checkRaw(t, 8);
        long[] out = new long[n];
        if (t.rawOffset >= 0) {
            ByteBuffer.wrap(bytes(), t.rawOffset, t.rawLength)
                    .order(ByteOrder.LITTLE_ENDIAN)
                    .asLongBuffer()
                    .get(out);
        } else {
            int have = t.int64Data == null ? 0 : t.int64Data.size;
            if (have != n) throw countMismatch(t, "int64_data", have);
            System.arraycopy(t.int64Data.data, 0, out, 0, n);
        }
        return out;
    }

    private void checkRaw(Init t, int esize) {
        if ((long) t.rawLength != t.numel * esize) {
            throw new CheckpointException(source + ": tensor '" + t.name + "' has " + t.rawLength
                    + " bytes of raw_data but dims " + Arrays.toString(t.dims) + " need " + t.numel * esize
                    + "; the file is corrupt or truncated.");
        }
    }

    private CheckpointException countMismatch(Init t, String field, int have) {
        return new CheckpointException(source + ": tensor '" + t.name + "' has " + have + " values in " + field
                + " but dims " + Arrays.toString(t.dims) + " need " + t.numel + "; the file is corrupt.");
    }

    private static final class FloatList {
        float[] data = new float[16];
        int size;

        void add(float v) {
            if (size == data.length) data = Arrays.copyOf(data, size * 2);
            data[size++] = v;
        }
    }

    private static final class LongList {
        long[] data = new long[8];
        int size;

        void add(long v) {
            if (size == data.length) data = Arrays.copyOf(data, size * 2);
            data[size++] = v;
        }

        long[] toArray() {
            return Arrays.copyOf(data, size);
        }
    }
}
