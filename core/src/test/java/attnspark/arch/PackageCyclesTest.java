package attnspark.arch;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No import cycles between the packages of core: a package may use the ones below it, never the
 * other way round, so each layer compiles and can be read without the ones above it. The graph
 * comes from the import lines of core/src/main/java (inline fully-qualified names are not used
 * there, see the imports of every file), so a new cycle fails here, naming its packages in order.
 */
class PackageCyclesTest {
    private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+);", Pattern.MULTILINE);
    private static final Pattern IMPORT = Pattern.compile(
            "^import\\s+(?:static\\s+)?((?:[a-z]\\w*\\.)*[a-z]\\w*)\\.[A-Z][\\w.*]*;", Pattern.MULTILINE);

    @Test
    void corePackagesHaveNoImportCycle() throws IOException {
        Path sources = Path.of("src/main/java");
        assertTrue(Files.isDirectory(sources), "run from the core module: " + sources.toAbsolutePath() + " is missing");
        Map<String, Set<String>> graph = importGraph(sources);
        assertTrue(graph.size() > 10, "expected the core packages, found " + graph.keySet());
        List<String> cycle = findCycle(graph);
        assertNull(
                cycle,
                () -> "package import cycle: " + String.join(" -> ", cycle)
                        + ". Move the shared type to a package both can use, or invert the dependency with an interface.");
    }

    /** The detector itself, on graphs whose answer is known by construction. */
    @Test
    void findCycleReportsTheCycleInOrderAndNothingForALayeredGraph() {
        Map<String, Set<String>> layered =
                new TreeMap<>(Map.of("a", Set.of("b", "c"), "b", Set.of("c"), "c", Set.of()));
        assertNull(findCycle(layered));
        Map<String, Set<String>> cyclic =
                new TreeMap<>(Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a", "d"), "d", Set.of()));
        assertEquals(List.of("a", "b", "c", "a"), findCycle(cyclic));
    }

    /** Package -> the attnspark packages its files import (itself excluded). */
    static Map<String, Set<String>> importGraph(Path sources) throws IOException {
        Map<String, Set<String>> graph = new TreeMap<>();
        List<Path> files;
        try (Stream<Path> walk = Files.walk(sources)) {
            files = walk.filter(p -> p.toString().endsWith(".java")).toList();
        }
        for (Path file : files) {
            String text = Files.readString(file);
            Matcher pm = PACKAGE.matcher(text);
            assertTrue(pm.find(), file + " has no package declaration");
            String pkg = pm.group(1);
            Set<String> uses = graph.computeIfAbsent(pkg, k -> new TreeSet<>());
            Matcher im = IMPORT.matcher(text);
            while (im.find()) {
                String target = im.group(1);
                if (target.startsWith("attnspark.") && !target.equals(pkg)) uses.add(target);
            }
        }
        return graph;
    }

    /** The first cycle a depth-first walk meets, as its packages with the first repeated at the end; null if none. */
    static List<String> findCycle(Map<String, Set<String>> graph) {
        Set<String> done = new TreeSet<>();
        for (String start : graph.keySet()) {
            List<String> found = walk(start, graph, new ArrayList<>(), done);
            if (found != null) return found;
        }
        return null;
    }

    private static List<String> walk(String pkg, Map<String, Set<String>> graph, List<String> path, Set<String> done) {
        int at = path.indexOf(pkg);
        if (at >= 0) {
            List<String> cycle = new ArrayList<>(path.subList(at, path.size()));
            cycle.add(pkg);
            return cycle;
        }
        if (done.contains(pkg)) return null;
        path.add(pkg);
        for (String next : graph.getOrDefault(pkg, Set.of())) {
            List<String> found = walk(next, graph, path, done);
            if (found != null) return found;
        }
        path.remove(path.size() - 1);
        done.add(pkg);
        return null;
    }
}
