package attnspark.udf;

import attnspark.api.ModelOptions;
import attnspark.api.TextEmbedder;
import attnspark.api.TextScorer;
import attnspark.load.Models;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * One model replica per executor JVM, keyed by the {@link ModelOptions} (a record: equal
 * options share a replica). Loaded lazily on first use, i.e. inside the first task that needs
 * it on that executor; the driver only builds and ships the options and never calls this
 * class. Thread-safe: concurrent tasks asking for the same options wait for one load and then
 * share the (thread-safe) model. A failed load is not cached, so a later task retries it.
 * A {@code modelDir} that is a URI or an archive is fetched into this host's model cache first
 * ({@link ModelSource#localDir}); the replica stays keyed by the options as given.
 */
public final class ModelReplicas {
    private static final ReplicaFactory DEFAULT_FACTORY = new ReplicaFactory() {
        @Override
        public TextEmbedder embedder(ModelOptions options) {
            return Models.loadEmbedder(options.withModelDir(ModelSource.localDir(options.modelDir())));
        }

        @Override
        public TextScorer scorer(ModelOptions options) {
            return Models.loadScorer(options.withModelDir(ModelSource.localDir(options.modelDir())));
        }
    };

    private static volatile ReplicaFactory factory = DEFAULT_FACTORY;
    private static final ConcurrentMap<ModelOptions, Lazy<TextEmbedder>> EMBEDDERS = new ConcurrentHashMap<>();
    private static final ConcurrentMap<ModelOptions, Lazy<TextScorer>> SCORERS = new ConcurrentHashMap<>();

    private ModelReplicas() {}

    /** This JVM's embedder for {@code options}, loading it on first use. */
    public static TextEmbedder embedder(ModelOptions options) {
        return get(EMBEDDERS, options, o -> factory.embedder(o));
    }

    /** This JVM's scorer for {@code options}, loading it on first use. */
    public static TextScorer scorer(ModelOptions options) {
        return get(SCORERS, options, o -> factory.scorer(o));
    }

    /** Seconds this JVM took to load (fetch included) its embedder for {@code options}; -1 if not loaded. */
    public static double embedderLoadSeconds(ModelOptions options) {
        Lazy<TextEmbedder> l = EMBEDDERS.get(options);
        return l == null || l.value == null ? -1 : l.loadSeconds;
    }

    /** Seconds this JVM took to load (fetch included) its scorer for {@code options}; -1 if not loaded. */
    public static double scorerLoadSeconds(ModelOptions options) {
        Lazy<TextScorer> l = SCORERS.get(options);
        return l == null || l.value == null ? -1 : l.loadSeconds;
    }

    /** How many replicas this JVM holds (loaded or loading). */
    public static int size() {
        return EMBEDDERS.size() + SCORERS.size();
    }

    /**
     * Test hook: build replicas with {@code f} instead of {@link Models} (pass null for the
     * default). Clears the cache. Works for local-mode Spark, where tasks run in this JVM.
     */
    public static void setFactoryForTests(ReplicaFactory f) {
        closeAll();
        factory = f == null ? DEFAULT_FACTORY : f;
    }

    /** Closes and forgets every replica of this JVM. */
    public static synchronized void closeAll() {
        closeAll(EMBEDDERS);
        closeAll(SCORERS);
    }

    private static <T extends AutoCloseable> void closeAll(ConcurrentMap<ModelOptions, Lazy<T>> map) {
        for (ModelOptions key : map.keySet()) {
            Lazy<T> lazy = map.remove(key);
            if (lazy != null && lazy.value != null) {
                try {
                    lazy.value.close();
                } catch (Exception ignored) {
                    // closing is best effort
                }
            }
        }
    }

    private static <T> T get(
            ConcurrentMap<ModelOptions, Lazy<T>> map, ModelOptions options, Function<ModelOptions, T> load) {
        if (options == null) {
            throw new IllegalArgumentException("model options are null");
        }
        Lazy<T> lazy = map.computeIfAbsent(options, o -> new Lazy<>());
        try {
            return lazy.get(() -> load.apply(options));
        } catch (OutOfMemoryError e) {
            map.remove(options, lazy);
            // Spark ends an executor on an OutOfMemoryError with a bare exit code; a model that
            // does not fit is a job-level failure that must say what to raise
            throw new IllegalStateException(
                    "loading the model " + (options.modelDir() == null ? "(bundled)" : options.modelDir())
                            + " ran out of memory (" + e.getMessage()
                            + "); give the executors more memory: spark.executor.memory"
                            + " (spark.driver.memory in local mode), ATTNSPARK_JAVA_OPTS=-Xmx... for scripts/attnspark");
        } catch (RuntimeException | Error e) {
            map.remove(options, lazy); // let a later task retry the load
            throw e;
        }
    }

    /** Loads once; callers block on the holder, not on the whole map. */
    private static final class Lazy<T> {
        private volatile T value;
        private volatile double loadSeconds;

        T get(Supplier<T> loader) {
            T v = value;
            if (v != null) {
                return v;
            }
            synchronized (this) {
                if (value == null) {
                    long start = System.nanoTime();
                    T loaded = loader.get();
                    loadSeconds = (System.nanoTime() - start) / 1e9;
                    if (loaded == null) {
                        throw new IllegalStateException("model factory returned null");
                    }
                    value = loaded;
                }
                return value;
            }
        }
    }
}
