package attnspark.models;

import attnspark.checkpoint.ModelFiles;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A config.json as HF writes it: typed reads with errors that name the file and the key. */
public final class HfConfig {
    private final Map<String, Object> values;
    private final String source;

    public HfConfig(Map<String, Object> values, String source) {
        this.values = values;
        this.source = source;
    }

    /** A config.json is a few KB; anything near this is not one. */
    static final long MAX_CONFIG_BYTES = 16L << 20;

    @SuppressWarnings("unchecked")
    public static HfConfig read(Path file) {
        if (!ModelFiles.exists(file)) {
            throw new IllegalArgumentException(
                    file + ": config.json not found; a model directory needs the HF config.json");
        }
        byte[] bytes = ModelFiles.readAll(file, MAX_CONFIG_BYTES, "config.json");
        try {
            Object v = new ObjectMapper().readValue(bytes, Object.class);
            if (!(v instanceof Map)) throw new IllegalArgumentException(file + ": expected a JSON object");
            return new HfConfig((Map<String, Object>) v, file.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": not valid JSON (" + ModelFiles.oneLine(e) + ")", e);
        }
    }

    public String source() {
        return source;
    }

    public boolean has(String key) {
        return values.get(key) != null;
    }

    public Object raw(String key) {
        return values.get(key);
    }

    /**
     * An exact 32-bit integer: 5.9 or 4294967301 fail (naming the file, key and value) instead
     * of being truncated or wrapped; 1e3 is accepted as 1000, as Python's json would not but
     * HF configs written by hand sometimes use it.
     */
    public int getInt(String key) {
        Object v = values.get(key);
        if (!(v instanceof Number n)) throw invalid(key, v, "must be a number");
        BigDecimal d;
        try {
            d = new BigDecimal(n.toString());
        } catch (NumberFormatException e) {
            throw invalid(key, v, "must be a whole number");
        }
        if (d.signum() != 0 && d.stripTrailingZeros().scale() > 0) throw invalid(key, v, "must be a whole number");
        if (d.compareTo(BigDecimal.valueOf(Integer.MIN_VALUE)) < 0
                || d.compareTo(BigDecimal.valueOf(Integer.MAX_VALUE)) > 0) {
            throw invalid(key, v, "is out of range (a 32-bit integer)");
        }
        return d.intValueExact();
    }

    public int getInt(String key, int dflt) {
        return has(key) ? getInt(key) : dflt;
    }

    /** Like {@link #getInt(String)}, and at least {@code min} (1 for sizes and counts). */
    public int getInt(String key, int dflt, int min) {
        int v = getInt(key, dflt);
        if (v < min) throw invalid(key, has(key) ? values.get(key) : v, "must be >= " + min);
        return v;
    }

    /** The error for a field: file, field, value and the rule it breaks. */
    public IllegalArgumentException invalid(String key, Object value, String rule) {
        return new IllegalArgumentException(source + ": field '" + key + "' = " + value + " " + rule
                + "; fix config.json (it must describe the checkpoint beside it).");
    }

    public double getDouble(String key, double dflt) {
        Object v = values.get(key);
        if (v == null) return dflt;
        if (!(v instanceof Number n)) throw invalid(key, v, "must be a number");
        return n.doubleValue();
    }

    public String getString(String key, String dflt) {
        Object v = values.get(key);
        return v == null ? dflt : v.toString();
    }

    public boolean getBool(String key, boolean dflt) {
        Object v = values.get(key);
        if (v == null) return dflt;
        if (!(v instanceof Boolean b))
            throw new IllegalArgumentException(source + ": '" + key + "' must be true/false, found " + v);
        return b;
    }

    @SuppressWarnings("unchecked")
    public Map<String, Object> getMap(String key) {
        Object v = values.get(key);
        if (v == null) return null;
        if (!(v instanceof Map))
            throw new IllegalArgumentException(source + ": '" + key + "' must be an object, found " + v);
        return (Map<String, Object>) v;
    }

    @SuppressWarnings("unchecked")
    public List<Object> getList(String key) {
        Object v = values.get(key);
        if (v == null) return null;
        if (!(v instanceof List))
            throw new IllegalArgumentException(source + ": '" + key + "' must be a list, found " + v);
        return (List<Object>) v;
    }

    public String modelType() {
        return getString("model_type", "");
    }

    public HfConfig with(String key, Object value) {
        Map<String, Object> m = new LinkedHashMap<>(values);
        m.put(key, value);
        return new HfConfig(m, source);
    }
}
