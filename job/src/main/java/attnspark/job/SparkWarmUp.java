package attnspark.job;

import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.reflect.runtime.package$;

/**
 * Spark SQL's one-time costs of a fresh JVM, paid on a background thread while the session
 * starts instead of on the driver's main thread between the session and the first task.
 * Thread samples of the 20,000-text job showed the main thread, after the session was up, in
 * {@code ScalaReflection}'s class initialisation (Scala's runtime reflection universe, which
 * unpickles the Scala signatures of the classes it meets; 1.4-2.9 s cold in a JVM of its own)
 * and then in Spark's first code generation (catalyst's expression and codegen classes, janino;
 * the first {@code UnsafeProjection} 2.8-3.8 s cold, the next 0.05 s). Both are initialised here
 * once per JVM: the reflection universe is a lazy val of a Scala package object (initialised
 * once, under its lock, whichever thread comes first) and code generation is thread-safe (one
 * compiled-class cache per JVM). {@code -Dattnspark.sparkWarmUp=false} leaves it off.
 */
final class SparkWarmUp {
    static final String THREAD = "attnspark-spark-warm-up";
    private static final AtomicBoolean STARTED = new AtomicBoolean();

    private SparkWarmUp() {}

    /** Starts the warm-up thread, once per JVM, and returns it; null on later calls or when switched off. */
    static Thread start() {
        if ("false".equals(System.getProperty("attnspark.sparkWarmUp")) || !STARTED.compareAndSet(false, true)) {
            return null;
        }
        Thread t = new Thread(
                () -> {
                    try {
                        package$.MODULE$.universe();
                        // a projection of the shapes the jobs write: string ids, float vectors, counts
                        UnsafeProjection.create(new StructType()
                                .add("id", DataTypes.StringType)
                                .add("embedding", DataTypes.createArrayType(DataTypes.FloatType))
                                .add("n_tokens", DataTypes.IntegerType));
                    } catch (RuntimeException | LinkageError e) {
                        // only a head start: the driver initialises the same classes and reports what fails
                    }
                },
                THREAD);
        t.setDaemon(true);
        t.start();
        return t;
    }
}
