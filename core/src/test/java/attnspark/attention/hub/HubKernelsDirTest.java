package attnspark.attention.hub;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.attention.AttentionFunction;
import attnspark.attention.dispatch.AttentionInterface;
import attnspark.attention.dispatch.AttentionMaskInterface;
import attnspark.models.SequenceBatch;
import attnspark.models.llama.LlamaModel;
import attnspark.testutil.Shared;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A kernel that exists only as a jar in a kernels directory: compiled here at test time against
 * attnspark's classes, so nothing on the test class path provides it.
 */
class HubKernelsDirTest {
    static final String REPO = "kernels-community/dir-attn";

    static final String SOURCE = """
            package dirkernel;

            import attnspark.attention.AttentionFunction;
            import attnspark.attention.EagerAttention;
            import java.util.Map;

            public class DirKernel implements attnspark.attention.hub.AttentionKernel {
                public String repo() { return "%s"; }
                public Map<String, AttentionFunction> functions() {
                    EagerAttention eager = new EagerAttention();
                    // a lambda, so the registered function's class lives in this jar
                    AttentionFunction fn = (m, q, k, v, mask, kw) -> eager.apply(m, q, k, v, mask, kw);
                    return Map.of("attention", fn);
                }
                public String maskFormat() { return "eager"; }
            }
            """.formatted(REPO);

    static Path buildKernelJar(Path work) throws Exception {
        Path src = work.resolve("src/dirkernel/DirKernel.java");
        Path classes = work.resolve("classes");
        Files.createDirectories(src.getParent());
        Files.createDirectories(classes);
        Files.writeString(src, SOURCE);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "needs a JDK (javax.tools compiler)");
        // attnspark's own classes: where AttentionKernel was loaded from (surefire may hide java.class.path)
        Path core = Path.of(AttentionKernel.class
                .getProtectionDomain()
                .getCodeSource()
                .getLocation()
                .toURI());
        int rc = javac.run(
                null, null, null, "-d", classes.toString(), "-cp", core.toString(), "--release", "17", src.toString());
        assertEquals(0, rc, "compiling the test kernel");
        Path jar = work.resolve("kernels").resolve("dir-attn.jar");
        Files.createDirectories(jar.getParent());
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
                Stream<Path> files = Files.walk(classes)) {
            for (Path p : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                out.putNextEntry(new JarEntry(classes.relativize(p).toString().replace('\\', '/')));
                Files.copy(p, out);
                out.closeEntry();
            }
            out.putNextEntry(new JarEntry("META-INF/services/" + AttentionKernel.class.getName()));
            writeUtf8(out, "dirkernel.DirKernel\n");
            out.closeEntry();
        }
        return jar.getParent();
    }

    private static void writeUtf8(OutputStream out, String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void kernelInAJarLoadsOnlyThroughTheKernelsDir(@TempDir Path work) throws Exception {
        Path kernelsDir = buildKernelJar(work);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> HubKernels.loadAndRegister(REPO, false, null));
        assertTrue(e.getMessage().contains("no AttentionKernel with repo '" + REPO + "'"), e.getMessage());

        AttentionFunction fn = HubKernels.loadAndRegister(REPO, false, kernelsDir);
        assertNotSame(getClass().getClassLoader(), fn.getClass().getClassLoader(), "the function comes from the jar");
        assertEquals("attnspark-kernels", fn.getClass().getClassLoader().getName());
        assertTrue(AttentionMaskInterface.ALL.containsGlobal(REPO));

        // a model picks it up by name (already registered) and matches eager
        float[] eager = LlamaModel.fromPretrained(Shared.stories260k(), "eager")
                .forward(new SequenceBatch(HubKernelsTest.IDS), Map.of());
        LlamaModel m = LlamaModel.fromPretrained(Shared.stories260k(), "sdpa");
        m.setKernelSource(new KernelSource(kernelsDir, false));
        m.setAttnImplementation(REPO);
        assertSame(fn, AttentionInterface.ALL.get(REPO));
        assertArrayEquals(eager, m.forward(new SequenceBatch(HubKernelsTest.IDS), Map.of()), 0f);
    }

    @Test
    void modelConstructedInAKernelSourceScopeLoadsFromTheDir(@TempDir Path work) throws Exception {
        Path kernelsDir = buildKernelJar(work);
        String name = REPO + "@main:attention"; // a distinct registry key, so this test loads it itself
        LlamaModel m = HubKernels.withSource(
                new KernelSource(kernelsDir, false), () -> LlamaModel.fromPretrained(Shared.stories260k(), name));
        assertEquals(name, m.attnImplementation());
        assertEquals(
                "attnspark-kernels",
                AttentionInterface.ALL.get(name).getClass().getClassLoader().getName());
    }
}
