package attnspark.job;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SupportedJavaTest {
    @Test
    void javasWhoseSubjectGetSubjectWorksPass() {
        assertNull(SupportedJava.problem(Runtime.Version.parse("17.0.15"), null));
        assertNull(SupportedJava.problem(Runtime.Version.parse("21.0.5"), null));
        assertNull(SupportedJava.problem(Runtime.Version.parse("22"), null));
        assertNull(SupportedJava.problem(Runtime.Version.parse("23.0.1"), "allow"));
        // the JVM running this suite starts Spark in the job tests
        assertNull(SupportedJava.problem());
    }

    @Test
    void javasThatRefuseSubjectGetSubjectAreNamedWithWhatToRun() {
        String on25 = SupportedJava.problem(Runtime.Version.parse("25.0.3"), null);
        assertNotNull(on25);
        assertTrue(on25.contains("Java 25.0.3"), on25);
        assertTrue(on25.contains("24 and later"), on25);
        assertTrue(on25.contains("Java 17"), on25);
        // java.security.manager=allow makes no difference from 24 on (the JVM will not start with it)
        assertNotNull(SupportedJava.problem(Runtime.Version.parse("24"), "allow"));
        String on23 = SupportedJava.problem(Runtime.Version.parse("23.0.2"), null);
        assertNotNull(on23);
        assertTrue(on23.contains("-Djava.security.manager=allow"), on23);
    }
}
