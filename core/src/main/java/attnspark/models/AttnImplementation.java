package attnspark.models;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * HF's {@code attn_implementation: str | dict} (PreTrainedModel.set_attn_implementation, configuration_utils' recursive setter): either one backend name for the
 * model and every sub-model, or a map keyed by sub-config name ({@code "text_config"},
 * {@code "vision_config"}, ...) where {@code ""} is the top-level model. Keys left out keep
 * their current backend.
 */
public final class AttnImplementation {
    private final String single;
    private final Map<String, String> perConfig;

    private AttnImplementation(String single, Map<String, String> perConfig) {
        this.single = single;
        this.perConfig = perConfig;
    }

    /** One name for the model and all its sub-models (HF: a str sets every sub-config). */
    public static AttnImplementation of(String name) {
        if (name == null || name.isBlank())
            throw new IllegalArgumentException("attention implementation must be non-empty");
        return new AttnImplementation(name, null);
    }

    /** Per sub-config names; {@code ""} is the top level. */
    public static AttnImplementation of(Map<String, String> perConfig) {
        Map<String, String> copy = new LinkedHashMap<>();
        perConfig.forEach((k, v) -> {
            if (k == null) throw new IllegalArgumentException("sub-config key is null; use \"\" for the top level");
            if (v == null || v.isBlank()) {
                throw new IllegalArgumentException("attention implementation for '" + k + "' must be non-empty");
            }
            copy.put(k, v);
        });
        return new AttnImplementation(null, Collections.unmodifiableMap(copy));
    }

    /**
     * The CLI form: a plain name ({@code sdpa}, {@code kernels-community/flash-attn2}), or
     * comma-separated {@code key=name} pairs where an empty key is the top level, e.g.
     * {@code text_config=sdpa,=eager}. Backend names contain neither ',' nor '='.
     */
    public static AttnImplementation parse(String s) {
        if (s == null || !s.contains("=")) return of(s);
        Map<String, String> m = new LinkedHashMap<>();
        for (String part : s.split(",", -1)) {
            int eq = part.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("'" + part + "' in '" + s
                        + "' is not key=name; write e.g. text_config=sdpa,=eager" + " (an empty key is the top level)");
            }
            String key = part.substring(0, eq).trim();
            if (m.put(key, part.substring(eq + 1).trim()) != null) {
                throw new IllegalArgumentException("sub-config '" + key + "' given twice in '" + s + "'");
            }
        }
        return of(m);
    }

    /** Every backend name this sets. */
    public Collection<String> names() {
        return single != null ? List.of(single) : perConfig.values();
    }

    public boolean isSingle() {
        return single != null;
    }

    /** The name for sub-config {@code key} ("" = top level), or {@code current} when the map leaves it out. */
    public String forKey(String key, String current) {
        return single != null ? single : perConfig.getOrDefault(key, current);
    }

    /** True when this sets {@code key} (a single name sets every key). */
    public boolean sets(String key) {
        return single != null || perConfig.containsKey(key);
    }

    /** Throws naming the valid keys when the map has a key that is neither "" nor a sub-config. */
    public void checkKeys(Set<String> subConfigs) {
        if (single != null) return;
        for (String k : perConfig.keySet()) {
            if (!k.isEmpty() && !subConfigs.contains(k)) {
                Set<String> valid = new TreeSet<>(subConfigs);
                valid.add("");
                throw new IllegalArgumentException("'" + k + "' is not a sub-config of this model; valid keys: " + valid
                        + " (\"\" is the top level)");
            }
        }
    }

    @Override
    public String toString() {
        return single != null ? single : perConfig.toString();
    }
}
