package attnspark.models.tiny;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A tiny random HF-format checkpoint: config.json plus model.safetensors written by hand
 * (independently of the reader under test) in F32, F16 or BF16. The values kept here are
 * exactly the values stored in the file, so the naive reference uses the same weights the
 * model reads: F32 values are rounded to float; F16/BF16 values are generated with at most
 * 8 significant bits and magnitudes in the half normal range, so both formats hold them exactly.
 */
final class TinyCheckpoint {
    final Map<String, Object> config;
    final String dtype;
    final Map<String, double[]> values = new LinkedHashMap<>();
    final Map<String, int[]> shapes = new LinkedHashMap<>();
    /** Per-tensor dtype overrides (for deliberately wrong files). */
    final Map<String, String> dtypeOverride = new LinkedHashMap<>();

    private final Random rng;

    TinyCheckpoint(Map<String, Object> config, String dtype, long seed) {
        if (!List.of("F32", "F16", "BF16").contains(dtype)) throw new IllegalArgumentException(dtype);
        this.config = config;
        this.dtype = dtype;
        this.rng = new Random(seed);
    }

    /** Value as stored: float for F32, 8 significant bits (exact in F16 and BF16) otherwise. */
    double round(double v) {
        if (dtype.equals("F32")) return (float) v;
        if (Math.abs(v) < 0x1p-12) return 0.0;
        int e = Math.getExponent(v);
        return Math.scalb(Math.rint(Math.scalb(v, 7 - e)), e - 7);
    }

    void put(String name, double[] v, int... shape) {
        long n = 1;
        for (int d : shape) n *= d;
        if (n != v.length)
            throw new IllegalArgumentException(name + ": " + v.length + " values for shape " + Arrays.toString(shape));
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) r[i] = round(v[i]);
        values.put(name, r);
        shapes.put(name, shape.clone());
    }

    /** Gaussian(0, std) weights. */
    void randn(String name, double std, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = rng.nextGaussian() * std;
        put(name, v, shape);
    }

    /** Norm weights: 1 + Gaussian(0, std). */
    void around1(String name, double std, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = 1 + rng.nextGaussian() * std;
        put(name, v, n);
    }

    double[] get(String name) {
        double[] v = values.get(name);
        if (v == null) throw new IllegalArgumentException("reference has no tensor " + name);
        return v;
    }

    // ---------------------------------------------------------------- model layouts (HF names)

    static int i(Map<String, Object> c, String k, int dflt) {
        Object v = c.get(k);
        return v == null ? dflt : ((Number) v).intValue();
    }

    static boolean b(Map<String, Object> c, String k, boolean dflt) {
        Object v = c.get(k);
        return v == null ? dflt : (Boolean) v;
    }

    /** Random Llama / Mistral / Qwen2 weights for a config map. */
    static TinyCheckpoint llama(Map<String, Object> c, String dtype, long seed) {
        TinyCheckpoint ck = new TinyCheckpoint(c, dtype, seed);
        int V = i(c, "vocab_size", -1), D = i(c, "hidden_size", -1), I = i(c, "intermediate_size", -1);
        int H = i(c, "num_attention_heads", -1), KV = i(c, "num_key_value_heads", H), Dh = i(c, "head_dim", D / H);
        boolean qwen2 = "qwen2".equals(c.get("model_type"));
        boolean qkvBias = qwen2 || b(c, "attention_bias", false);
        boolean oBias = !qwen2 && b(c, "attention_bias", false);
        ck.randn("model.embed_tokens.weight", 0.5, V, D);
        for (int l = 0; l < i(c, "num_hidden_layers", -1); l++) {
            String p = "model.layers." + l + ".";
            ck.around1(p + "input_layernorm.weight", 0.1, D);
            ck.randn(p + "self_attn.q_proj.weight", 1 / Math.sqrt(D), H * Dh, D);
            ck.randn(p + "self_attn.k_proj.weight", 1 / Math.sqrt(D), KV * Dh, D);
            ck.randn(p + "self_attn.v_proj.weight", 1 / Math.sqrt(D), KV * Dh, D);
            if (qkvBias) {
                ck.randn(p + "self_attn.q_proj.bias", 0.2, H * Dh);
                ck.randn(p + "self_attn.k_proj.bias", 0.2, KV * Dh);
                ck.randn(p + "self_attn.v_proj.bias", 0.2, KV * Dh);
            }
            ck.randn(p + "self_attn.o_proj.weight", 1 / Math.sqrt(H * Dh), D, H * Dh);
            if (oBias) ck.randn(p + "self_attn.o_proj.bias", 0.2, D);
            ck.around1(p + "post_attention_layernorm.weight", 0.1, D);
            ck.randn(p + "mlp.gate_proj.weight", 1 / Math.sqrt(D), I, D);
            ck.randn(p + "mlp.up_proj.weight", 1 / Math.sqrt(D), I, D);
            ck.randn(p + "mlp.down_proj.weight", 1 / Math.sqrt(I), D, I);
        }
        ck.around1("model.norm.weight", 0.1, D);
        if (!b(c, "tie_word_embeddings", false)) ck.randn("lm_head.weight", 1 / Math.sqrt(D), V, D);
        return ck;
    }

    /** Random BERT / RoBERTa weights; prefix "" , "bert." or "roberta." as HF saves them. */
    static TinyCheckpoint bert(Map<String, Object> c, String prefix, String dtype, long seed) {
        TinyCheckpoint ck = new TinyCheckpoint(c, dtype, seed);
        int V = i(c, "vocab_size", -1), D = i(c, "hidden_size", -1), I = i(c, "intermediate_size", -1);
        int P = i(c, "max_position_embeddings", 512), types = i(c, "type_vocab_size", 2);
        String e = prefix + "embeddings.";
        ck.randn(e + "word_embeddings.weight", 0.5, V, D);
        ck.randn(e + "position_embeddings.weight", 0.5, P, D);
        ck.randn(e + "token_type_embeddings.weight", 0.5, types, D);
        ck.around1(e + "LayerNorm.weight", 0.1, D);
        ck.randn(e + "LayerNorm.bias", 0.1, D);
        for (int l = 0; l < i(c, "num_hidden_layers", -1); l++) {
            String p = prefix + "encoder.layer." + l + ".";
            for (String n : new String[] {"query", "key", "value"}) {
                ck.randn(p + "attention.self." + n + ".weight", 1 / Math.sqrt(D), D, D);
                ck.randn(p + "attention.self." + n + ".bias", 0.2, D);
            }
            ck.randn(p + "attention.output.dense.weight", 1 / Math.sqrt(D), D, D);
            ck.randn(p + "attention.output.dense.bias", 0.2, D);
            ck.around1(p + "attention.output.LayerNorm.weight", 0.1, D);
            ck.randn(p + "attention.output.LayerNorm.bias", 0.1, D);
            ck.randn(p + "intermediate.dense.weight", 1 / Math.sqrt(D), I, D);
            ck.randn(p + "intermediate.dense.bias", 0.2, I);
            ck.randn(p + "output.dense.weight", 1 / Math.sqrt(I), D, I);
            ck.randn(p + "output.dense.bias", 0.2, D);
            ck.around1(p + "output.LayerNorm.weight", 0.1, D);
            ck.randn(p + "output.LayerNorm.bias", 0.1, D);
        }
        ck.randn(prefix + "pooler.dense.weight", 1 / Math.sqrt(D), D, D);
        ck.randn(prefix + "pooler.dense.bias", 0.1, D);
        return ck;
    }

    // ---------------------------------------------------------------- writing

    /** Writes config.json and model.safetensors into dir; returns dir. */
    Path write(Path dir) throws IOException {
        Files.createDirectories(dir);
        new ObjectMapper()
                .writerWithDefaultPrettyPrinter()
                .writeValue(dir.resolve("config.json").toFile(), config);
        writeSafetensors(dir.resolve("model.safetensors"));
        return dir;
    }

    void writeSafetensors(Path file) throws IOException {
        StringBuilder h = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        List<byte[]> parts = new ArrayList<>();
        long off = 0;
        for (Map.Entry<String, double[]> e : values.entrySet()) {
            String dt = dtypeOverride.getOrDefault(e.getKey(), dtype);
            byte[] data = encode(dt, e.getValue());
            StringBuilder shape = new StringBuilder("[");
            int[] s = shapes.get(e.getKey());
            for (int k = 0; k < s.length; k++) shape.append(k == 0 ? "" : ",").append(s[k]);
            shape.append(']');
            h.append(",\"")
                    .append(e.getKey())
                    .append("\":{\"dtype\":\"")
                    .append(dt)
                    .append("\",\"shape\":")
                    .append(shape)
                    .append(",\"data_offsets\":[")
                    .append(off)
                    .append(',')
                    .append(off + data.length)
                    .append("]}");
            off += data.length;
            parts.add(data);
        }
        h.append('}');
        byte[] hb = h.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate((int) (8 + hb.length + off)).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(hb.length).put(hb);
        for (byte[] p : parts) b.put(p);
        Files.write(file, b.array());
    }

    static byte[] encode(String dtype, double[] v) {
        switch (dtype) {
            case "F32": {
                ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (double x : v) b.putFloat((float) x);
                return b.array();
            }
            case "F16":
            case "BF16": {
                ByteBuffer b = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
                for (double x : v) b.putShort((short) (dtype.equals("F16") ? f16Bits(x) : bf16Bits(x)));
                return b.array();
            }
            case "I32": {
                ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (double x : v) b.putInt((int) Math.round(x * 1000));
                return b.array();
            }
            case "F64": {
                ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
                for (double x : v) b.putDouble(x);
                return b.array();
            }
            default:
                throw new IllegalArgumentException(dtype);
        }
    }

    /** IEEE half bits of a value that half holds exactly (normal or zero). */
    static int f16Bits(double x) {
        float f = (float) x;
        int bits = Float.floatToIntBits(f);
        int sign = (bits >>> 31) << 15;
        if (f == 0f) return sign;
        int exp = ((bits >>> 23) & 0xff) - 127 + 15;
        int mant = bits & 0x7fffff;
        if (exp <= 0 || exp >= 31 || (mant & 0x1fff) != 0)
            throw new IllegalArgumentException(x + " is not exact in F16");
        return sign | (exp << 10) | (mant >>> 13);
    }

    /** bfloat16 bits of a value that bfloat16 holds exactly. */
    static int bf16Bits(double x) {
        int bits = Float.floatToIntBits((float) x);
        if ((bits & 0xffff) != 0) throw new IllegalArgumentException(x + " is not exact in BF16");
        return bits >>> 16;
    }
}
