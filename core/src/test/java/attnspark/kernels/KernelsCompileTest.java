package attnspark.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every Vector API kernel compiles, in both of HotSpot's compilers. A method the JIT gives up on
 * ("COMPILE SKIPPED", e.g. C1's "out of virtual registers in linear scan" on a tile with too many
 * live vectors) stays in code that runs the Vector API's per-lane Java fallback, tens of times
 * slower, until C2 takes it, which can be minutes: a linear tile grown by 500 bytes once kept a
 * fresh JVM's MiniLM linears there for a whole 5-minute bench warm-up, while every result stayed
 * right. Child JVMs run {@link KernelWorkout}: tiered as in production, 300 times (C1 compiles
 * a kernel after 200 calls or a long loop, C2 later), and C2 alone compiling each kernel method on
 * its first call.
 */
class KernelsCompileTest {
    @ParameterizedTest
    @ValueSource(strings = {"tiered", "c2"})
    void everyKernelMethodCompiles(String compilers) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules",
                "jdk.incubator.vector",
                "-XX:+PrintCompilation"));
        if (compilers.equals("c2")) {
            cmd.addAll(List.of(
                    "-XX:-TieredCompilation",
                    "-Xcomp",
                    "-XX:CompileCommand=quiet",
                    "-XX:CompileCommand=compileonly,attnspark.kernels.*::*"));
        }
        cmd.addAll(List.of(
                "-cp",
                System.getProperty("java.class.path"),
                KernelWorkout.class.getName(),
                compilers.equals("c2") ? "1" : "300"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the workout JVM did not finish");
        assertEquals(0, p.exitValue(), "the workout JVM failed:\n" + out);
        assertTrue(out.contains("workout done"), "the workout did not finish:\n" + out);
        List<String> skipped = out.lines()
                .filter(l -> l.contains("attnspark.kernels") && l.contains("COMPILE SKIPPED"))
                .filter(l -> !l.contains("concurrent class loading")) // retried by the JIT itself
                .toList();
        assertEquals(List.of(), skipped, compilers + ": kernel methods the JIT gave up on");
        // the linear's tile runs as hidden copies of FixedStrideTile8, one per input width
        // (Tile8Kernel.forStride), named FixedStrideTile8/0x...; the pattern above covers them
        assertTrue(
                out.lines().anyMatch(l -> l.contains("attnspark.kernels.FixedStrideTile8/") && l.contains("::tile8 ")),
                "the compile log names the kernels it compiled:\n" + out);
    }
}
