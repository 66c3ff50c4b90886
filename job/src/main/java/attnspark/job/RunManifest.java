package attnspark.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

/**
 * {@code _attnspark_run.json}: what produced one committed output (a partition, or the whole
 * output): the input files (names relative to the input, sizes, modification times), the options
 * that shape the rows, the model and its fingerprint, row/error/token counts and times. A backfill
 * skips a date whose manifest says the same work was done ({@link #sameWork}). The name starts
 * with {@code _}, so Spark's readers skip it.
 *
 * @param inputFiles       every data file of the input, sorted by path
 * @param options          the effective value of every option that shapes the output rows
 * @param modelFingerprint SHA-256 of the model directory's file names, sizes and modification times
 *                         (or the bundled model's jar)
 */
public record RunManifest(
        String command,
        String partition,
        String input,
        List<InputFile> inputFiles,
        Map<String, String> options,
        String model,
        String modelFingerprint,
        long rows,
        long errors,
        long tokens,
        String started,
        String finished,
        double seconds) {

    public static final String FILE_NAME = "_attnspark_run.json";
    /** Input and model listings stop here: a fingerprint is not a reason to walk a million files. */
    static final int MAX_FILES = 100_000;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** @param path relative to the input path (the file name when the input is one file) */
    public record InputFile(String path, long size, long modified) {}

    /** This plan with what the run wrote and when. */
    RunManifest withResults(JobSummary summary, Instant started, Instant finished) {
        return new RunManifest(
                command,
                partition,
                input,
                inputFiles,
                options,
                model,
                modelFingerprint,
                summary.rows(),
                summary.errors(),
                summary.tokens(),
                started.toString(),
                finished.toString(),
                summary.seconds());
    }

    /** True when {@code other} records the same command, input files, options and model. */
    public boolean sameWork(RunManifest other) {
        return other != null
                && command.equals(other.command)
                && inputFiles.equals(other.inputFiles)
                && options.equals(other.options)
                && modelFingerprint.equals(other.modelFingerprint);
    }

    public void write(FileSystem fs, Path dir) {
        try (FSDataOutputStream out = fs.create(new Path(dir, FILE_NAME), false)) {
            out.write(JSON.writeValueAsBytes(this));
        } catch (IOException e) {
            throw new UncheckedIOException("could not write " + new Path(dir, FILE_NAME) + ": " + e.getMessage(), e);
        }
    }

    /** The manifest in {@code dir}; null when there is none or it cannot be read (the work is then done again). */
    public static RunManifest read(FileSystem fs, Path dir) {
        Path file = new Path(dir, FILE_NAME);
        try {
            FileStatus st = fs.getFileStatus(file);
            if (!st.isFile() || st.getLen() > 64L << 20) {
                return null;
            }
            try (FSDataInputStream in = fs.open(file)) {
                return JSON.readValue((InputStream) in, RunManifest.class);
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Every data file under {@code input} (a file, a directory or a glob), hidden ones (_, .) excluded as Spark does. */
    public static List<InputFile> listInput(Configuration conf, String input) {
        Path root = new Path(input);
        try {
            FileSystem fs = root.getFileSystem(conf);
            List<InputFile> files = new ArrayList<>();
            FileStatus[] matches = fs.globStatus(root);
            if (matches == null) {
                return files;
            }
            for (FileStatus m : matches) {
                if (m.isFile()) {
                    files.add(new InputFile(m.getPath().getName(), m.getLen(), m.getModificationTime()));
                    continue;
                }
                String prefix = m.getPath().toUri().getPath();
                RemoteIterator<LocatedFileStatus> it = fs.listFiles(m.getPath(), true);
                while (it.hasNext()) {
                    LocatedFileStatus f = it.next();
                    String rel = f.getPath().toUri().getPath().substring(prefix.length() + 1);
                    if (hidden(rel)) {
                        continue;
                    }
                    if (files.size() >= MAX_FILES) {
                        throw new IOException("more than " + MAX_FILES + " files");
                    }
                    files.add(new InputFile(
                            (matches.length > 1 ? m.getPath().getName() + "/" : "") + rel,
                            f.getLen(),
                            f.getModificationTime()));
                }
            }
            files.sort(Comparator.comparing(InputFile::path));
            return files;
        } catch (IOException e) {
            throw new InputException("could not list the input " + input + ": " + e.getMessage());
        }
    }

    /**
     * SHA-256 over the model directory's files (relative name, size, modification time): a copy
     * with other bytes or a new version changes it, a re-read does not. The bundled model (null)
     * is named by the jar it comes from, whose name carries its version.
     */
    public static String modelFingerprint(Configuration conf, String modelDir) {
        if (modelDir == null) {
            URL onnx = RunManifest.class.getResource("/all-minilm-l6-v2.onnx");
            String where = onnx == null
                    ? "classpath"
                    : onnx.toString().replaceFirst("!.*", "").replaceFirst(".*/", "");
            return "bundled:" + where;
        }
        List<InputFile> files;
        try {
            files = listInput(conf, modelDir);
        } catch (InputException e) {
            files = List.of();
        }
        if (files.isEmpty()) { // e.g. a directory only the executors have: the path is all there is to compare
            return "path:" + modelDir;
        }
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (InputFile f : files) {
                sha.update((f.path() + "\t" + f.size() + "\t" + f.modified() + "\n").getBytes(StandardCharsets.UTF_8));
            }
            return "sha256:" + HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean hidden(String relativePath) {
        for (String part : relativePath.split("/")) {
            if (part.startsWith("_") || part.startsWith(".")) {
                return true;
            }
        }
        return false;
    }
}
