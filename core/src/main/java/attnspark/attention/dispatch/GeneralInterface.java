package attnspark.attention.dispatch;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * HF's {@code GeneralInterface}: a global map shared by every instance (written by
 * {@code register}) plus a per-instance local map (written by {@link #put}) that is looked up
 * first. Models hold their own instance so a local override never leaks into another model.
 */
public abstract class GeneralInterface<V> {
    private final Map<String, V> global;
    private final Map<String, V> local = new ConcurrentHashMap<>();

    protected GeneralInterface(Map<String, V> global) {
        this.global = global;
    }

    /** Local override, seen by this instance only. */
    public void put(String key, V value) {
        local.put(key, value);
    }

    public V remove(String key) {
        V v = local.remove(key);
        if (v == null) throw new IllegalArgumentException("'" + key + "' has no local override to remove");
        return v;
    }

    public boolean contains(String key) {
        return local.containsKey(key) || global.containsKey(key);
    }

    public boolean containsGlobal(String key) {
        return global.containsKey(key);
    }

    /** Local first, then global; null when neither has the key. */
    public V lookup(String key) {
        V v = local.get(key);
        return v != null ? v : global.get(key);
    }

    /** Union of global and local keys, sorted for stable messages. */
    public List<String> validKeys() {
        Set<String> keys = new LinkedHashSet<>(global.keySet());
        keys.addAll(local.keySet());
        List<String> sorted = new ArrayList<>(keys);
        sorted.sort(null);
        return sorted;
    }

    protected static <V> Map<String, V> newGlobal(Map<String, V> defaults) {
        Map<String, V> m = new ConcurrentHashMap<>(new LinkedHashMap<>(defaults));
        return m;
    }
}
