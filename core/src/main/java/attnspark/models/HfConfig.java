package attnspark.models;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
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

    @SuppressWarnings("unchecked")
    public static HfConfig read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + ": config.json not found; a model directory needs the HF config.json");
        }
        try {
            Object v = new ObjectMapper().readValue(file.toFile(), Object.class);
            if (!(v instanceof Map)) throw new IllegalArgumentException(file + ": expected a JSON object");
            return new HfConfig((Map<String, Object>) v, file.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": not valid JSON (" + e.getMessage() + ")", e);
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

    public int getInt(String key) {
        Object v = values.get(key);
        if (!(v instanceof Number n)) throw new IllegalArgumentException(source + ": '" + key + "' must be a number, found " + v);
        return n.intValue();
    }

    public int getInt(String key, int dflt) {
        return has(key) ? getInt(key) : dflt;
    }

    public double getDouble(String key, double dflt) {
        Object v = values.get(key);
        if (v == null) return dflt;
        if (!(v instanceof Number n)) throw new IllegalArgumentException(source + ": '" + key + "' must be a number, found " + v);
        return n.doubleValue();
    }

    public String getString(String key, String dflt) {
        Object v = values.get(key);
        return v == null ? dflt : v.toString();
    }

    public boolean getBool(String key, boolean dflt) {
        Object v = values.get(key);
        if (v == null) return dflt;
        if (!(v instanceof Boolean b)) throw new IllegalArgumentException(source + ": '" + key + "' must be true/false, found " + v);
        return b;
    }

    @SuppressWarnings("unchecked")
    public Map<String, Object> getMap(String key) {
        Object v = values.get(key);
        if (v == null) return null;
        if (!(v instanceof Map)) throw new IllegalArgumentException(source + ": '" + key + "' must be an object, found " + v);
        return (Map<String, Object>) v;
    }

    @SuppressWarnings("unchecked")
    public List<Object> getList(String key) {
        Object v = values.get(key);
        if (v == null) return null;
        if (!(v instanceof List)) throw new IllegalArgumentException(source + ": '" + key + "' must be a list, found " + v);
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
