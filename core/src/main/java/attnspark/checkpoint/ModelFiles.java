package attnspark.checkpoint;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * The file-system rules every model file goes through: only regular files are opened (a FIFO
 * would block the open forever, a device such as /dev/zero reads without end), whether named
 * exactly or found by a glob, and whole-file reads are bounded by the file's real size.
 */
public final class ModelFiles {
    /** Items shown in a message before "... and N more". */
    public static final int MESSAGE_ITEMS = 10;

    private ModelFiles() {}

    /** True when {@code p} exists at all (a dangling link counts), so a caller can tell "absent" from "not a file". */
    public static boolean exists(Path p) {
        return Files.exists(p, LinkOption.NOFOLLOW_LINKS);
    }

    /** Fails naming {@code p} unless it is a regular file (links are followed to their target). */
    public static void requireRegularFile(Path p, String what) {
        if (Files.isRegularFile(p)) return;
        if (!exists(p)) throw new CheckpointException(p + ": " + what + " not found.");
        String kind = Files.isDirectory(p)
                ? "a directory"
                : Files.isSymbolicLink(p) && !Files.exists(p)
                        ? "a dangling link"
                        : "a FIFO, socket, device or a link to one";
        throw new CheckpointException(
                p + ": " + what + " is " + kind + ", not a regular file; only regular files are read"
                        + " as model files. Replace it with the real file.");
    }

    /**
     * Regular files in {@code dir} matching {@code glob}; an entry that matches but is not a
     * regular file fails naming it rather than being opened (or silently skipped).
     */
    public static List<Path> glob(Path dir, String glob, String what) {
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, glob)) {
            for (Path p : ds) {
                requireRegularFile(p, what);
                found.add(p);
            }
        } catch (IOException e) {
            throw new CheckpointException(dir + ": cannot list the directory (" + e + ")", e);
        }
        found.sort(null);
        return found;
    }

    /** The whole of a regular file of at most {@code maxBytes}, reading no more than the size it had when opened. */
    public static byte[] readAll(Path p, long maxBytes, String what) {
        requireRegularFile(p, what);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > maxBytes) {
                throw new CheckpointException(p + ": " + what + " has " + size + " bytes, more than the " + maxBytes
                        + "-byte limit for such a file; it is not a " + what + " (or is corrupt).");
            }
            ByteBuffer buf = ByteBuffer.allocate((int) size);
            while (buf.hasRemaining()) {
                if (ch.read(buf, buf.position()) < 0) {
                    throw new CheckpointException(p + ": " + what + " ended at byte " + buf.position() + " of " + size
                            + " while reading (it shrank); read it again once it is complete.");
                }
            }
            return buf.array();
        } catch (IOException e) {
            throw new CheckpointException(p + ": cannot read " + what + " (" + e + ")", e);
        }
    }

    /**
     * A read or parse error as one short line ("Unexpected end-of-input at line 1, column 11"):
     * Jackson's own message spans lines and quotes the source, which buries the file name in a
     * CLI failure.
     */
    public static String oneLine(Exception e) {
        JsonLocation at = e instanceof JsonProcessingException j ? j.getLocation() : null;
        String msg = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
        msg = String.valueOf(msg).replaceAll("\\s+", " ").trim();
        if (msg.length() > 200) msg = msg.substring(0, 200) + "...";
        return at == null ? msg : msg + " at line " + at.getLineNr() + ", column " + at.getColumnNr();
    }

    /** "[a, b, c]" for short lists, "[a, ..., j, ... and 299,990 more]" for long ones, so a message stays a line. */
    public static String capped(Collection<?> items) {
        StringBuilder sb = new StringBuilder("[");
        Iterator<?> it = items.iterator();
        for (int i = 0; i < MESSAGE_ITEMS && it.hasNext(); i++) {
            if (i > 0) sb.append(", ");
            sb.append(it.next());
        }
        if (items.size() > MESSAGE_ITEMS)
            sb.append(String.format(Locale.ROOT, ", ... and %,d more", items.size() - MESSAGE_ITEMS));
        return sb.append(']').toString();
    }
}
