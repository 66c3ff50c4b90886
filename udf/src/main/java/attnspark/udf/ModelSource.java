package attnspark.udf;

import java.io.File;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;
import org.apache.spark.deploy.SparkHadoopUtil;

/**
 * Where {@code --model} points, and the local directory an executor loads it from:
 * <ul>
 *   <li>null: the bundled model (nothing to fetch);</li>
 *   <li>a local directory: loaded in place;</li>
 *   <li>a Hadoop-FS URI ({@code hdfs://}, {@code s3a://}, {@code abfs://}, {@code file://}, ...) of a
 *       model directory or of a {@code .tar.gz}/{@code .tgz}/{@code .zip} archive of one, or a local
 *       archive path: copied (archives unpacked) once per executor into a local cache;</li>
 *   <li>the name an archive was shipped under with {@code --archives URI#name} (or its file name):
 *       Spark unpacked it already, in the container's working directory (YARN) or under
 *       {@link SparkFiles#getRootDirectory()}.</li>
 * </ul>
 * The cache entry of a copy is named by a fingerprint of the source files' paths, sizes and
 * modification times, so a changed model is copied again and an unchanged one never is. Tasks
 * of one executor (threads) and of several executors on one host (processes) wait for one copy:
 * a JVM lock plus a file lock; the copy goes to a {@code .partial-*} directory renamed into place
 * atomically when complete, so a copy cut short (killed JVM, full disk, truncated archive) is
 * never loaded, and the next copier removes it.
 */
public final class ModelSource {
    /** Spark conf key of the executors' local model cache directory. */
    public static final String CACHE_DIR_KEY = "spark.attnspark.model-cache";

    private static final String PARTIAL = ".partial-";
    private static final ConcurrentMap<java.nio.file.Path, Object> JVM_LOCKS = new ConcurrentHashMap<>();

    private ModelSource() {}

    /** A {@code --model} value that cannot be used; the message names it and says what to do. */
    public static final class ModelNotFoundException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        ModelNotFoundException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    public static boolean isArchive(String location) {
        String l = location.toLowerCase(Locale.ROOT);
        return l.endsWith(".tar.gz") || l.endsWith(".tgz") || l.endsWith(".zip");
    }

    /** A URI with a scheme of 2+ letters (a Windows drive letter is a path). */
    public static boolean isUri(String location) {
        try {
            String scheme = new URI(location).getScheme();
            return scheme != null && scheme.length() > 1;
        } catch (URISyntaxException e) {
            return false;
        }
    }

    /** A plain path on this machine's file system: neither a URI nor an archive to fetch and unpack. */
    public static boolean isLocalPath(String location) {
        return !isUri(location) && !isArchive(location);
    }

    /**
     * Driver-side check before any task starts: a URI or archive must exist (through the Hadoop
     * FileSystem the executors will use); a local directory is checked when the executors share
     * the driver's file system ({@code localMaster}); a name shipped with {@code --archives} is
     * Spark's to fetch. Throws {@link ModelNotFoundException} naming the location.
     */
    public static void check(String location, SparkConf conf, Configuration hadoopConf, boolean localMaster) {
        if (location == null) {
            return;
        }
        if (shippedArchive(location, conf) != null) {
            return;
        }
        if (!isLocalPath(location)) {
            Path p = new Path(location);
            try {
                FileSystem fs = p.getFileSystem(hadoopConf);
                FileStatus st = fs.getFileStatus(p);
                if (st.isFile() && !isArchive(location)) {
                    throw new ModelNotFoundException(
                            "--model " + location + " is a file; give a model directory or a"
                                    + " .tar.gz/.tgz/.zip archive of one",
                            null);
                }
            } catch (FileNotFoundException e) {
                throw new ModelNotFoundException(
                        "model not found: " + location + " does not exist"
                                + " (checked on the driver through Hadoop's FileSystem for '"
                                + p.toUri().getScheme() + "')",
                        e);
            } catch (IOException | RuntimeException e) {
                if (e instanceof ModelNotFoundException m) {
                    throw m;
                }
                throw new ModelNotFoundException(
                        "model " + location + " cannot be read: " + e
                                + " (is the file system's connector on the class path and configured, e.g. spark.hadoop.* keys?)",
                        e);
            }
            return;
        }
        if (localMaster && !new File(location).isDirectory()) {
            throw new ModelNotFoundException(
                    "model directory not found: " + location
                            + " (give a local directory, a Hadoop-FS URI such as hdfs:///models/m, or a .tar.gz/.zip archive)",
                    null);
        }
    }

    /**
     * The local directory to load {@code location} from on this JVM: as is, or fetched into the
     * cache (see the class comment). Null stays null (the bundled model).
     */
    public static String localDir(String location) {
        if (location == null) {
            return null;
        }
        if (isLocalPath(location) && new File(location).isDirectory()) {
            return location;
        }
        SparkEnv env = SparkEnv.get();
        SparkConf conf = env == null ? new SparkConf() : env.conf();
        String shipped = shippedArchive(location, conf);
        if (shipped != null) {
            for (File dir : List.of(new File(shipped), new File(SparkFiles.getRootDirectory(), shipped))) {
                if (dir.isDirectory()) {
                    return modelRoot(dir.toPath()).toString();
                }
            }
            throw new ModelNotFoundException(
                    "model '" + location + "' was shipped with --archives, but this executor has no"
                            + " unpacked directory '" + shipped + "' (looked in the working directory and "
                            + SparkFiles.getRootDirectory() + ")",
                    null);
        }
        if (isLocalPath(location)) {
            throw new ModelNotFoundException(
                    "model directory not found on this executor: " + location
                            + " (a local path must exist on every executor; use a Hadoop-FS URI such as hdfs:///models/m, an archive,"
                            + " or --archives)",
                    null);
        }
        Configuration hadoopConf = SparkHadoopUtil.get().newConfiguration(conf);
        return fetch(location, hadoopConf, cacheRoot(conf)).toString();
    }

    /** The executors' cache root: spark.attnspark.model-cache, else java.io.tmpdir/attnspark-models-USER. */
    static java.nio.file.Path cacheRoot(SparkConf conf) {
        String dir = conf.get(CACHE_DIR_KEY, null);
        if (dir == null) {
            dir = new File(System.getProperty("java.io.tmpdir"), "attnspark-models-" + System.getProperty("user.name"))
                    .getPath();
        }
        return java.nio.file.Path.of(dir);
    }

    /** The unpacked name of an {@code --archives} entry matching {@code location} (fragment or file name), or null. */
    static String shippedArchive(String location, SparkConf conf) {
        if (isUri(location) || location.contains("/")) {
            return null;
        }
        for (String key : List.of("spark.archives", "spark.yarn.dist.archives")) {
            for (String entry : conf.get(key, "").split(",")) {
                entry = entry.strip();
                if (entry.isEmpty()) {
                    continue;
                }
                int hash = entry.indexOf('#');
                String name = hash >= 0 ? entry.substring(hash + 1) : new Path(entry).getName();
                String file = new Path(hash >= 0 ? entry.substring(0, hash) : entry).getName();
                if (location.equals(name) || location.equals(file)) {
                    return name;
                }
            }
        }
        return null;
    }

    /**
     * Copies (or unpacks) {@code location} into {@code cacheRoot} once and returns the model
     * directory inside the entry. Visible for tests, which pass their own cache root.
     */
    public static java.nio.file.Path fetch(String location, Configuration hadoopConf, java.nio.file.Path cacheRoot) {
        Path src = new Path(location);
        try {
            FileSystem fs = src.getFileSystem(hadoopConf);
            FileStatus top = fs.getFileStatus(src);
            List<FileStatus> files = new ArrayList<>();
            if (top.isDirectory()) {
                RemoteIterator<LocatedFileStatus> it = fs.listFiles(src, true);
                while (it.hasNext()) {
                    files.add(it.next());
                }
            } else {
                files.add(top);
            }
            files.sort(Comparator.comparing(f -> f.getPath().toString()));
            String name = src.getName().replaceAll("[^A-Za-z0-9._-]", "_");
            java.nio.file.Path entry = cacheRoot.resolve(
                    name + "-" + fingerprint(fs.makeQualified(src).toString(), files));
            if (Files.isDirectory(entry)) {
                return modelRoot(entry);
            }
            Files.createDirectories(cacheRoot);
            synchronized (JVM_LOCKS.computeIfAbsent(entry, e -> new Object())) {
                // a FileLock is per process: the JVM lock keeps this JVM's other threads from asking twice
                try (FileChannel ch = FileChannel.open(
                                cacheRoot.resolve(entry.getFileName() + ".lock"),
                                StandardOpenOption.CREATE,
                                StandardOpenOption.WRITE);
                        FileLock lock = ch.lock()) {
                    if (!Files.isDirectory(entry)) {
                        removePartials(cacheRoot, entry.getFileName().toString());
                        java.nio.file.Path partial = cacheRoot.resolve(entry.getFileName() + PARTIAL
                                + ProcessHandle.current().pid() + "-"
                                + Thread.currentThread().getId());
                        Files.createDirectories(partial);
                        try {
                            if (top.isDirectory()) {
                                copyTree(fs, src, files, partial);
                            } else {
                                try (InputStream in = fs.open(src)) {
                                    unpack(in, location, partial);
                                }
                            }
                        } catch (IOException | RuntimeException e) {
                            deleteTree(partial);
                            throw e;
                        }
                        Files.move(partial, entry, StandardCopyOption.ATOMIC_MOVE);
                    }
                }
            }
            return modelRoot(entry);
        } catch (FileNotFoundException e) {
            throw new ModelNotFoundException("model not found: " + location + " (" + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "copying the model " + location + " into the local cache " + cacheRoot + " failed: " + e
                            + " (a partial copy is never used; free disk space or set " + CACHE_DIR_KEY + ")",
                    e);
        }
    }

    private static String fingerprint(String source, List<FileStatus> files) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(source.getBytes(StandardCharsets.UTF_8));
            for (FileStatus f : files) {
                md.update(("\n" + f.getPath().toUri().getPath() + "\t" + f.getLen() + "\t" + f.getModificationTime())
                        .getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(md.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Copies that an earlier copier left behind (killed, failed): only the lock holder gets here. */
    private static void removePartials(java.nio.file.Path cacheRoot, String entryName) throws IOException {
        try (DirectoryStream<java.nio.file.Path> ds = Files.newDirectoryStream(cacheRoot, entryName + PARTIAL + "*")) {
            for (java.nio.file.Path p : ds) {
                deleteTree(p);
            }
        }
    }

    private static void deleteTree(java.nio.file.Path dir) throws IOException {
        try (Stream<java.nio.file.Path> s = Files.walk(dir)) {
            for (java.nio.file.Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static void copyTree(FileSystem fs, Path src, List<FileStatus> files, java.nio.file.Path to)
            throws IOException {
        String base = fs.makeQualified(src).toUri().getPath();
        for (FileStatus f : files) {
            String path = fs.makeQualified(f.getPath()).toUri().getPath();
            java.nio.file.Path dest = inside(to, path.substring(base.length()).replaceFirst("^/+", ""));
            Files.createDirectories(dest.getParent());
            try (InputStream in = fs.open(f.getPath())) {
                long n = Files.copy(in, dest);
                if (n != f.getLen()) {
                    throw new IOException(
                            f.getPath() + ": copied " + n + " bytes, the file system lists " + f.getLen());
                }
            }
        }
    }

    /** Unpacks a .tar.gz/.tgz or .zip stream: regular files and directories only, all inside {@code to}. */
    static void unpack(InputStream in, String name, java.nio.file.Path to) throws IOException {
        if (name.toLowerCase(Locale.ROOT).endsWith(".zip")) {
            ZipInputStream zip = new ZipInputStream(in);
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                java.nio.file.Path dest = inside(to, e.getName());
                if (e.isDirectory()) {
                    Files.createDirectories(dest);
                } else {
                    Files.createDirectories(dest.getParent());
                    Files.copy(zip, dest);
                }
            }
            return;
        }
        TarArchiveInputStream tar = new TarArchiveInputStream(new GZIPInputStream(in));
        int entries = 0;
        for (TarArchiveEntry e; (e = tar.getNextTarEntry()) != null; entries++) {
            java.nio.file.Path dest = inside(to, e.getName());
            if (e.isDirectory()) {
                Files.createDirectories(dest);
            } else if (e.isFile()) {
                Files.createDirectories(dest.getParent());
                long n = Files.copy(tar, dest);
                if (n != e.getSize()) {
                    throw new IOException(
                            name + ": entry " + e.getName() + " is cut short (" + n + " of " + e.getSize() + " bytes)");
                }
            } else {
                throw new IOException(name + ": entry " + e.getName()
                        + " is a link or device; a model archive holds only" + " files and directories");
            }
        }
        if (entries == 0) {
            throw new IOException(name + " holds no files");
        }
    }

    /** {@code to/relative}, refusing names that climb out of {@code to} (absolute, "..": a hostile archive). */
    private static java.nio.file.Path inside(java.nio.file.Path to, String relative) throws IOException {
        java.nio.file.Path p = to.resolve(relative).normalize();
        if (relative.startsWith("/") || !p.startsWith(to)) {
            throw new IOException("archive entry '" + relative + "' points outside the model directory");
        }
        return p;
    }

    /** An archive of a model directory holds either its files or that one directory: descend into it. */
    static java.nio.file.Path modelRoot(java.nio.file.Path dir) {
        java.nio.file.Path d = dir;
        try {
            while (true) {
                List<java.nio.file.Path> children;
                try (Stream<java.nio.file.Path> s = Files.list(d)) {
                    children = s.filter(c -> !c.getFileName().toString().startsWith("."))
                            .toList();
                }
                if (children.size() == 1 && Files.isDirectory(children.get(0))) {
                    d = children.get(0);
                } else {
                    return d;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("listing " + d + ": " + e.getMessage(), e);
        }
    }
}
