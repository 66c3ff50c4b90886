package attnspark.job;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.attention.hub.AttentionKernel;
import attnspark.job.JobSpec.Command;
import attnspark.udf.ModelReplicas;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * A real Spark standalone cluster on 127.0.0.1, started once for the class: a Master and two
 * Workers (1 core, separate JVMs) over a SPARK_HOME assembled from the Maven Spark jars
 * ({@code jars/} = Spark's dependency closure found on the test class path, read from the POMs
 * beside the jars; {@code RELEASE}; {@code SPARK_SCALA_VERSION=2.12}). Jobs are submitted the way
 * a user does, {@code scripts/attnspark embed|score --master spark://...}, which runs SparkSubmit
 * in a child JVM (client deploy mode: that JVM is the driver) with the shaded job jar that the
 * build makes before the tests. The executors see only SPARK_HOME/jars and what the driver ships.
 * Checks: score gives the same rows and values as a local run (each id exactly once), into dated
 * partitions that re-runs replace one at a time, even when the re-run's driver is killed; embed
 * too, with an executor JVM killed with SIGKILL mid-job. Every process this class starts is
 * killed (with its children, the executors) in {@link #stop()} and by a shutdown hook.
 */
class StandaloneClusterTest {
    static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();
    static final Path WORK = ROOT.resolve("job/target/standalone-cluster");
    static final String SCALA_BINARY_VERSION = "2.12";
    static final String SPARK_JAR = "attnspark-job-0.1.0-SNAPSHOT-spark.jar";
    static final int ROWS = 800;
    /**
     * Patience for one step (a run, the workers registering). On 2 free cores a run takes about
     * 30 s; on a shared, overloaded machine (load 30 on 2 cores) it took 4 minutes. Generous, so
     * a slow machine is not reported as a broken cluster.
     */
    static final int RUN_SECONDS = 900;
    /** spark-submit options of every run: small JVMs, one BLAS thread per task, 8 tasks. */
    static final String SUBMIT_ARGS = "--executor-memory 1g --conf spark.executor.cores=1"
            + " --conf spark.executorEnv.OMP_NUM_THREADS=1 --conf spark.ui.enabled=false"
            + " --conf spark.driver.host=127.0.0.1 --conf spark.driver.bindAddress=127.0.0.1";

    static final List<Process> STARTED = new ArrayList<>();
    static final Thread KILL_ON_EXIT = new Thread(StandaloneClusterTest::killAll, "kill-standalone-cluster");

    static Path sparkHome;
    static String masterUrl;
    static Process[] workers;
    static Path input;
    static SparkSession spark;

    @BeforeAll
    static void start() throws Exception {
        Runtime.getRuntime().addShutdownHook(KILL_ON_EXIT);
        assertTrue(
                Files.isRegularFile(ROOT.resolve("job/target/" + SPARK_JAR)),
                "job/target/" + SPARK_JAR
                        + " missing: the build makes it before the tests (job/pom.xml, process-test-classes);"
                        + " run through Maven, without -Dshade.skip");
        deleteTree(WORK);
        Files.createDirectories(WORK);
        sparkHome = assembleSparkHome(WORK.resolve("spark-home"));
        int port = freePort();
        masterUrl = "spark://127.0.0.1:" + port;
        Process master = startDaemon(
                "master",
                "org.apache.spark.deploy.master.Master",
                "--host",
                "127.0.0.1",
                "--port",
                String.valueOf(port),
                "--webui-port",
                "0");
        workers = new Process[2];
        for (int i = 0; i < workers.length; i++) {
            Path dir = Files.createDirectories(WORK.resolve("worker-" + i));
            workers[i] = startDaemon(
                    "worker-" + i,
                    "org.apache.spark.deploy.worker.Worker",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--webui-port",
                    "0",
                    "--cores",
                    "1",
                    "--memory",
                    "1200m",
                    "--work-dir",
                    dir.toString(),
                    masterUrl);
        }
        Path masterLog = WORK.resolve("master.log");
        waitFor(
                () -> count(masterLog, "Registering worker") >= 2,
                RUN_SECONDS,
                "two workers registered with the master",
                master,
                masterLog);

        input = WORK.resolve("docs.jsonl");
        writeCorpus(input, ROWS);
        ModelReplicas.setFactoryForTests(null); // the real models for the local reference runs
        spark = JobTesting.localSpark("standalone-cluster-reference");
    }

    @AfterAll
    static void stop() {
        try {
            if (spark != null) {
                spark.stop();
            }
        } finally {
            killAll();
            Runtime.getRuntime().removeShutdownHook(KILL_ON_EXIT);
            // the executors' copies of the job jar (hundreds of MB each); logs stay for a look after a failure
            try (Stream<Path> files = Files.walk(WORK)) {
                files.filter(p -> p.toString().endsWith(".jar") && !p.startsWith(sparkHome) && Files.isRegularFile(p))
                        .forEach(p -> p.toFile().delete());
            } catch (IOException | UncheckedIOException ignored) {
                // best effort
            }
        }
    }

    /**
     * Dated partitions of score output on the cluster ({@code --partition date=...}): the first
     * run equals a local run (each id exactly once); a re-run of date=2026-12-01 leaves
     * date=2026-12-02 byte for byte; a re-run whose driver (the SparkSubmit JVM: client deploy
     * mode) gets SIGKILL while its tasks commit leaves the previous date=2026-12-01 byte for byte.
     */
    @Test
    void partitionReRunsTouchOnlyTheirPartitionAndADriverKillKeepsThePrevious() throws Exception {
        String model = JobTesting.sharedDir().resolve("models/stories260k").toString();
        Map<String, Row> local = localRun(Command.SCORE, "score-local", "--input", input.toString(), "--model", model);
        Path out = WORK.resolve("scores-by-date");
        Path day1 = out.resolve("date=2026-12-01"), day2 = out.resolve("date=2026-12-02");
        List<String> score =
                List.of("--input", input.toString(), "--output", out.toString(), "--model", model, "--partitions", "8");

        scoreOk("score-day1", score, "--partition", "date=2026-12-01");
        assertScoresEqual(local, readExactlyOnce(day1));
        scoreOk("score-day2", score, "--partition", "date=2026-12-02");
        Map<String, String> day2Bytes = digests(day2);
        scoreOk("score-day1-rerun", score, "--partition", "date=2026-12-01");
        assertEquals(day2Bytes, digests(day2), "re-running date=2026-12-01 changed date=2026-12-02");
        assertScoresEqual(local, readExactlyOnce(day1));

        Map<String, String> day1Bytes = digests(day1);
        Path kernels = buildSlowKernelJar(WORK.resolve("slow-kernel"));
        List<String> args = new ArrayList<>(score);
        args.addAll(List.of(
                "--partition",
                "date=2026-12-01",
                "--chunk-rows",
                "10",
                "--attn",
                SlowSdpaKernel.REPO,
                "--kernels-dir",
                kernels.toString()));
        try (Submission run = submit("score", "score-day1-driver-killed", args.toArray(String[]::new))) {
            waitFor(
                    () -> committedTasks(day1) >= 1,
                    RUN_SECONDS,
                    "a first committed task of the re-run",
                    run.process,
                    run.log);
            run.process.destroyForcibly(); // SIGKILL: the driver JVM (the script execs it)
            assertTrue(run.process.waitFor(60, TimeUnit.SECONDS));
            assertEquals(137, run.process.exitValue(), "killed by SIGKILL, not ended by itself:\n" + tail(run.log));
        }
        assertEquals(day1Bytes, digests(day1), "a re-run killed mid-job changed the previous date=2026-12-01");
        assertEquals(day2Bytes, digests(day2), "a re-run of date=2026-12-01 killed mid-job changed date=2026-12-02");
        assertScoresEqual(local, readExactlyOnce(day1));
        assertEquals(
                2L * ROWS,
                spark.read().parquet(out.toString()).where("date IS NOT NULL").count(),
                "the table (both partitions, the date column from the Hive layout) reads whole");
    }

    static void scoreOk(String name, List<String> args, String... more) throws Exception {
        List<String> all = new ArrayList<>(args);
        all.addAll(List.of(more));
        try (Submission run = submit("score", name, all.toArray(String[]::new))) {
            run.awaitSuccess(RUN_SECONDS);
        }
    }

    static void assertScoresEqual(Map<String, Row> local, Map<String, Row> cluster) {
        assertEquals(local.keySet(), cluster.keySet());
        for (String id : local.keySet()) {
            Row l = local.get(id), c = cluster.get(id);
            assertTrue(l.isNullAt(l.fieldIndex("error")) && c.isNullAt(c.fieldIndex("error")), "row " + id + " failed");
            assertEquals(l.<Integer>getAs("n_tokens"), c.<Integer>getAs("n_tokens"), "n_tokens of " + id);
            // same model and texts; only batch composition differs (BLAS blocking), so float noise at most
            assertEquals(l.<Double>getAs("nll"), c.<Double>getAs("nll"), 1e-3, "nll of " + id);
        }
    }

    /**
     * The job is slowed by an attention kernel that sleeps before sdpa (from --kernels-dir), so
     * tasks still run when the first one has committed; then one executor JVM gets SIGKILL.
     * Spark must re-run what was lost on a replacement executor and the output must still hold
     * every id exactly once, equal to a local run.
     */
    @Test
    void executorKilledMidJobLosesNothing() throws Exception {
        Map<String, Row> local = localRun(Command.EMBED, "embed-local", "--input", input.toString());
        Path kernels = buildSlowKernelJar(WORK.resolve("slow-kernel"));
        Path out = WORK.resolve("embed-executor-killed");
        try (Submission run = submit(
                "embed",
                "embed-executor-killed",
                "--input",
                input.toString(),
                "--output",
                out.toString(),
                "--partitions",
                "8",
                "--chunk-rows",
                "25",
                "--attn",
                SlowSdpaKernel.REPO,
                "--kernels-dir",
                kernels.toString())) {
            waitFor(
                    () -> committedTasks(out) >= 1,
                    RUN_SECONDS,
                    "a first committed task of the embed job",
                    run.process,
                    run.log);
            assertTrue(committedTasks(out) < 8, "the job is still running (slow kernel too fast?)");
            ProcessHandle executor = executorOf(workers[0]);
            executor.destroyForcibly(); // SIGKILL
            executor.onExit().get(60, TimeUnit.SECONDS);
            run.awaitSuccess(RUN_SECONDS);
            assertTrue(
                    Files.readString(run.log).contains("Lost executor"),
                    "the driver saw the executor die:\n" + tail(run.log));
        }
        assertEmbeddingsEqual(local, readExactlyOnce(out));
    }

    @Test
    void nonStandaloneMasterWithoutSparkHomeIsRefusedWithTheCommand() throws Exception {
        ProcessBuilder pb = script(
                "embed",
                "--input",
                input.toString(),
                "--output",
                WORK.resolve("never").toString(),
                "--master",
                "yarn");
        pb.redirectErrorStream(true);
        Process p = start(pb);
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(2, p.exitValue(), text);
        assertTrue(text.contains("spark-submit \\"), text);
        assertTrue(text.contains("--master yarn"), text);
        assertTrue(text.contains("--class attnspark.job.EmbedJob"), text);
        assertTrue(text.contains(ROOT.resolve("job/target/" + SPARK_JAR).toString()), text);
        assertTrue(text.contains("spark.executor.extraJavaOptions=--add-modules=jdk.incubator.vector"), text);
        assertFalse(Files.exists(WORK.resolve("never")));
    }

    // ---- runs ----

    /** A run of scripts/attnspark against the cluster; its stdout+stderr and Spark's log in {@code log}. */
    record Submission(String name, Process process, Path log) implements AutoCloseable {
        /** A test that fails mid-run must not leave its driver holding the cluster's cores. */
        @Override
        public void close() {
            killTree(process.toHandle());
        }

        void awaitSuccess(int seconds) throws Exception {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                killTree(process.toHandle());
                fail(name + ": still running after " + seconds + " s\n" + tail(log));
            }
            assertEquals(0, process.exitValue(), name + " failed:\n" + tail(log));
        }
    }

    static Submission submit(String command, String name, String... args) throws IOException {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--master", masterUrl));
        ProcessBuilder pb = script(command, all.toArray(String[]::new));
        Path log = WORK.resolve(name + ".log");
        pb.environment().put("ATTNSPARK_LOG", log.toString()); // Spark's log (conf/log4j2.properties)
        pb.environment().put("ATTNSPARK_JAVA_OPTS", "-Xmx1g");
        pb.environment().put("ATTNSPARK_SUBMIT_ARGS", SUBMIT_ARGS);
        Path console = WORK.resolve(name + ".out");
        pb.redirectErrorStream(true).redirectOutput(console.toFile());
        Process p = start(pb);
        return new Submission(name, p, log);
    }

    /** scripts/attnspark with the jars the build made (no rebuild), no SPARK_HOME (so SparkSubmit from Maven). */
    static ProcessBuilder script(String command, String... args) {
        List<String> cmd = new ArrayList<>(
                List.of("bash", ROOT.resolve("scripts/attnspark").toString(), command));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(ROOT.toFile());
        pb.environment().remove("SPARK_HOME");
        pb.environment().put("ATTNSPARK_NO_BUILD", "1");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        return pb;
    }

    static Map<String, Row> localRun(Command command, String name, String... args) {
        Path out = WORK.resolve(name);
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--output", out.toString()));
        JobSummary summary = JobRunner.run(spark, JobSpec.parse(command, all.toArray(String[]::new)));
        assertEquals(ROWS, summary.rows());
        assertEquals(0, summary.errors());
        return readExactlyOnce(out);
    }

    /** The output rows by id, failing unless every input id is there exactly once. */
    static Map<String, Row> readExactlyOnce(Path out) {
        Map<String, Row> byId = new TreeMap<>();
        for (Row r : spark.read().parquet(out.toString()).collectAsList()) {
            String id = r.getString(r.fieldIndex("id"));
            assertNull(byId.put(id, r), "id " + id + " appears twice in " + out);
        }
        assertEquals(ROWS, byId.size(), "rows in " + out);
        for (int i = 0; i < ROWS; i++) {
            assertTrue(byId.containsKey(id(i)), id(i) + " missing from " + out);
        }
        return byId;
    }

    static void assertEmbeddingsEqual(Map<String, Row> local, Map<String, Row> cluster) {
        assertEquals(local.keySet(), cluster.keySet());
        for (String id : local.keySet()) {
            Row l = local.get(id), c = cluster.get(id);
            assertTrue(l.isNullAt(l.fieldIndex("error")) && c.isNullAt(c.fieldIndex("error")), "row " + id + " failed");
            assertEquals(l.<Integer>getAs("n_tokens"), c.<Integer>getAs("n_tokens"), "n_tokens of " + id);
            List<Float> a = l.getList(l.fieldIndex("embedding")), b = c.getList(c.fieldIndex("embedding"));
            assertEquals(a.size(), b.size());
            for (int k = 0; k < a.size(); k++) {
                // unit vectors; batches differ between the runs, so float rounding differs a little
                assertEquals(a.get(k), b.get(k), 1e-4, "embedding[" + k + "] of " + id);
            }
        }
    }

    static String id(int i) {
        return String.format("doc-%04d", i);
    }

    /** {@code n} rows: the sample corpus's texts, each with a distinct id (and a distinct suffix). */
    static void writeCorpus(Path file, int n) throws IOException {
        List<String> texts = new ArrayList<>();
        for (String line : Files.readAllLines(ROOT.resolve("datasets/sample/docs.jsonl"))) {
            int start = line.indexOf("\"text\": \"");
            if (start >= 0) {
                texts.add(line.substring(start + 9, line.lastIndexOf('"')));
            }
        }
        assertTrue(texts.size() >= 100, "sample texts: " + texts.size());
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append("{\"id\": \"")
                    .append(id(i))
                    .append("\", \"text\": \"")
                    .append(texts.get(i % texts.size()))
                    .append(" (copy ")
                    .append(i / texts.size())
                    .append(")\"}\n");
        }
        Files.writeString(file, sb.toString());
    }

    /** A kernels dir holding one jar with {@link SlowSdpaKernel} and its services entry. */
    static Path buildSlowKernelJar(Path dir) throws IOException {
        Files.createDirectories(dir);
        String cls = SlowSdpaKernel.class.getName().replace('.', '/');
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(dir.resolve("slow-sdpa.jar")))) {
            for (String entry : List.of(cls + ".class", cls + "$1.class")) {
                try (InputStream in = SlowSdpaKernel.class.getClassLoader().getResourceAsStream(entry)) {
                    assertNotNull(in, entry + " not found in the test classes");
                    out.putNextEntry(new JarEntry(entry));
                    in.transferTo(out);
                    out.closeEntry();
                }
            }
            out.putNextEntry(new JarEntry("META-INF/services/" + AttentionKernel.class.getName()));
            out.write((SlowSdpaKernel.class.getName() + "\n").getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
        return dir;
    }

    // ---- the cluster ----

    /** A Master or Worker JVM on the assembled SPARK_HOME, logging (INFO) to WORK/name.log. */
    static Process startDaemon(String name, String mainClass, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                javaBin(),
                "-Xmx256m",
                "-cp",
                sparkHome.resolve("conf") + File.pathSeparator + sparkHome.resolve("jars") + File.separator + "*"));
        cmd.addAll(ConfConsistencyTest.opens());
        cmd.add(mainClass);
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(WORK.toFile());
        Map<String, String> env = pb.environment();
        env.put("SPARK_HOME", sparkHome.toString());
        env.put("SPARK_SCALA_VERSION", SCALA_BINARY_VERSION);
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
        env.put(
                "SPARK_LOCAL_DIRS",
                Files.createDirectories(WORK.resolve("local-" + name)).toString());
        env.put("JAVA_HOME", System.getProperty("java.home")); // executors run on this JVM too
        env.put("OPT_OUT_TRACKING", "true");
        pb.redirectErrorStream(true).redirectOutput(WORK.resolve(name + ".log").toFile());
        return start(pb);
    }

    static Process start(ProcessBuilder pb) throws IOException {
        Process p = pb.start();
        synchronized (STARTED) {
            STARTED.add(p);
        }
        return p;
    }

    /** Kills every process this class started, children first (a Worker's executors). */
    static void killAll() {
        List<Process> all;
        synchronized (STARTED) {
            all = new ArrayList<>(STARTED);
            STARTED.clear();
        }
        for (Process p : all) {
            killTree(p.toHandle());
        }
    }

    static void killTree(ProcessHandle root) {
        root.descendants().forEach(ProcessHandle::destroyForcibly);
        root.destroyForcibly();
        try {
            root.onExit().get(20, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // best effort: it was sent SIGKILL
        }
    }

    /** The executor JVM a Worker launched (its child), waiting for it to exist. */
    static ProcessHandle executorOf(Process worker) throws Exception {
        ProcessHandle[] found = new ProcessHandle[1];
        waitFor(
                () -> {
                    found[0] = worker.toHandle()
                            .children()
                            .filter(ProcessHandle::isAlive)
                            .findFirst()
                            .orElse(null);
                    return found[0] != null;
                },
                60,
                "an executor JVM under the worker",
                worker,
                WORK.resolve("worker-0.log"));
        String cmd = found[0].info().commandLine().orElse("");
        assertTrue(cmd.isEmpty() || cmd.contains("CoarseGrainedExecutorBackend"), "not an executor: " + cmd);
        return found[0];
    }

    /**
     * SPARK_HOME for the daemons and executors: jars/ = the jars of Spark's dependency closure on
     * the test class path (org.apache.spark:* and, transitively, the runtime dependencies their
     * POMs declare), RELEASE (so Spark's launcher takes jars/ as a distribution's), conf/ with a
     * log4j2.properties.
     */
    static Path assembleSparkHome(Path home) throws Exception {
        Map<String, List<Path>> jarsByArtifact = new LinkedHashMap<>();
        Map<Path, Pom> poms = new LinkedHashMap<>();
        for (String entry : testClassPath()) {
            Path jar = Path.of(entry);
            Pom pom = Pom.beside(jar);
            if (pom != null) {
                poms.put(jar, pom);
                jarsByArtifact
                        .computeIfAbsent(pom.key(), k -> new ArrayList<>())
                        .add(jar);
            }
        }
        Deque<String> todo = new ArrayDeque<>();
        jarsByArtifact.keySet().stream()
                .filter(k -> k.startsWith("org.apache.spark:"))
                .forEach(todo::add);
        assertFalse(todo.isEmpty(), "no org.apache.spark jars on the test class path");
        Set<String> closure = new LinkedHashSet<>();
        while (!todo.isEmpty()) {
            String key = todo.pop();
            if (!closure.add(key)) {
                continue;
            }
            for (Path jar : jarsByArtifact.get(key)) {
                for (String dep : poms.get(jar).runtimeDependencies()) {
                    if (jarsByArtifact.containsKey(dep) && !closure.contains(dep)) {
                        todo.push(dep);
                    }
                }
            }
        }
        Path jars = Files.createDirectories(home.resolve("jars"));
        for (String key : closure) {
            for (Path jar : jarsByArtifact.get(key)) {
                Files.createSymbolicLink(jars.resolve(jar.getFileName()), jar.toAbsolutePath());
            }
        }
        Files.writeString(home.resolve("RELEASE"), "Spark (assembled from the Maven jars by StandaloneClusterTest)\n");
        Files.createDirectories(home.resolve("conf"));
        Files.writeString(home.resolve("conf/log4j2.properties"), """
                rootLogger.level = info
                rootLogger.appenderRef.stderr.ref = console
                appender.console.type = Console
                appender.console.name = console
                appender.console.target = SYSTEM_ERR
                appender.console.layout.type = PatternLayout
                appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n%ex
                logger.jetty.name = org.sparkproject.jetty
                logger.jetty.level = warn
                """);
        return home;
    }

    static List<String> testClassPath() {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        return List.of(cp.split(File.pathSeparator));
    }

    /** What the test needs of a POM in a Maven repository: its coordinates and runtime dependencies. */
    record Pom(String groupId, String artifactId, Element project) {
        /** The POM of a jar in a Maven repository layout (.../artifact/version/artifact-version[-classifier].jar). */
        static Pom beside(Path jar) throws Exception {
            if (!jar.toString().endsWith(".jar")
                    || jar.getParent() == null
                    || jar.getParent().getParent() == null) {
                return null;
            }
            String version = jar.getParent().getFileName().toString();
            String artifact = jar.getParent().getParent().getFileName().toString();
            Path pom = jar.resolveSibling(artifact + "-" + version + ".pom");
            if (!Files.isRegularFile(pom)) {
                return null;
            }
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setExpandEntityReferences(false);
            Element project = f.newDocumentBuilder().parse(pom.toFile()).getDocumentElement();
            String group = text(project, "groupId");
            if (group == null) {
                Element parent = child(project, "parent");
                group = parent == null ? null : text(parent, "groupId");
            }
            return group == null ? null : new Pom(group, text(project, "artifactId"), project);
        }

        String key() {
            return groupId + ":" + artifactId;
        }

        /** groupId:artifactId of the direct dependencies outside profiles that are needed at run time. */
        List<String> runtimeDependencies() {
            Element deps = child(project, "dependencies");
            List<String> out = new ArrayList<>();
            if (deps == null) {
                return out;
            }
            for (Node n = deps.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (!(n instanceof Element d) || !d.getTagName().equals("dependency")) {
                    continue;
                }
                String scope = text(d, "scope");
                if ("true".equals(text(d, "optional"))
                        || (scope != null && !scope.equals("compile") && !scope.equals("runtime"))) {
                    continue;
                }
                String group = text(d, "groupId");
                if ("${project.groupId}".equals(group) || "${pom.groupId}".equals(group)) {
                    group = groupId;
                }
                String artifact = text(d, "artifactId");
                if (group != null && artifact != null) {
                    out.add(group + ":" + artifact.replace("${scala.binary.version}", SCALA_BINARY_VERSION));
                }
            }
            return out;
        }

        static Element child(Element e, String tag) {
            for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (n instanceof Element c && c.getTagName().equals(tag)) {
                    return c;
                }
            }
            return null;
        }

        static String text(Element e, String tag) {
            Element c = child(e, tag);
            return c == null ? null : c.getTextContent().strip();
        }
    }

    // ---- small helpers ----

    static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static void waitFor(BooleanSupplier condition, int seconds, String what, Process watched, Path log)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            if (!watched.isAlive()) {
                fail("waiting for " + what + ": the process ended (exit " + watched.exitValue() + ")\n" + tail(log));
            }
            if (System.nanoTime() > deadline) {
                fail("waiting for " + what + ": not after " + seconds + " s\n" + tail(log));
            }
            Thread.sleep(200);
        }
    }

    static long count(Path log, String text) {
        try {
            return Files.exists(log)
                    ? Files.readAllLines(log, StandardCharsets.ISO_8859_1).stream()
                            .filter(l -> l.contains(text))
                            .count()
                    : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * Tasks of the running write job that have committed: FileOutputCommitter (v1, Spark's
     * default) moves a task's files to {@code _temporary/0/task_*} at task commit, and the job
     * commit moves them out. The job writes under {@code out} itself, or (output staged and swapped
     * in when complete) under a hidden sibling {@code .<name>.*} or a hidden directory inside it.
     */
    static long committedTasks(Path out) {
        String name = out.getFileName().toString();
        long n = 0;
        try (Stream<Path> siblings = Files.list(out.getParent())) {
            for (Path top : (Iterable<Path>)
                    siblings.filter(p -> p.getFileName().toString().equals(name)
                            || p.getFileName().toString().startsWith("." + name + "."))::iterator) {
                try (Stream<Path> s = Files.walk(top)) {
                    n += s.filter(p -> Files.isDirectory(p)
                                    && p.getFileName().toString().startsWith("task_"))
                            .count();
                }
            }
        } catch (IOException | UncheckedIOException e) {
            return n; // moved while walking: count again on the next poll
        }
        return n;
    }

    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
            Path console = log.resolveSibling(log.getFileName().toString().replaceFirst("\\.log$", ".out"));
            if (!console.equals(log) && Files.exists(console)) {
                lines = new ArrayList<>(lines);
                lines.add("---- " + console.getFileName());
                lines.addAll(Files.readAllLines(console, StandardCharsets.ISO_8859_1));
            }
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            return "(no log " + log + ")";
        }
    }

    /** Relative path -> SHA-256 of every file under {@code dir}. */
    static Map<String, String> digests(Path dir) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                out.put(
                        dir.relativize(p).toString(),
                        HexFormat.of()
                                .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
            }
        }
        return out;
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
