package attnspark.job;

/**
 * The Java versions the embed and score jobs can start Spark on. Spark 3.5's Hadoop client
 * ({@code UserGroupInformation.getCurrentUser}, called as the SparkContext starts) asks
 * {@code Subject.getSubject} for the caller's subject; from Java 23 that method throws {@code
 * UnsupportedOperationException: getSubject is not supported} unless a Security Manager is
 * allowed ({@code -Djava.security.manager=allow}, which Java 24 and later refuse to start with,
 * JEP 486). The job would fail after Spark's start-up with that bare line; this check fails
 * first and says which Java to use. The engine itself ({@code bench}, the core API) runs on
 * newer Javas.
 */
final class SupportedJava {
    private SupportedJava() {}

    /** Why Spark cannot start on Java {@code version}, or null when it can. */
    static String problem(Runtime.Version version, String securityManagerProperty) {
        int feature = version.feature();
        if (feature < 23 || (feature == 23 && "allow".equals(securityManagerProperty))) {
            return null;
        }
        return "Java " + version + " runs this JVM, but Spark 3.5's Hadoop client calls Subject.getSubject, which Java "
                + (feature == 23 ? "23 refuses without -Djava.security.manager=allow" : "24 and later refuse")
                + " (\"getSubject is not supported\"): run the job with Java 17 (scripts/attnspark uses $JAVA_HOME/bin/java"
                + " when JAVA_HOME is set, else the java on PATH)";
    }

    /** {@link #problem} for the running JVM. */
    static String problem() {
        return problem(Runtime.version(), System.getProperty("java.security.manager"));
    }
}
