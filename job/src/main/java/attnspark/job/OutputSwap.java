package attnspark.job;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Replaces one output directory (the whole {@code --output}, or one partition
 * {@code OUTPUT/date=...}) only once the new content is complete: the job writes into
 * {@link #staging()} beside the target, and {@link #commit()} swaps it in with two renames
 * (target aside, staging to target) and then deletes the old content. A failed or killed run
 * leaves the target as it was; the next {@link #begin} for that target cleans up what a killed
 * run left: stale staging directories are deleted, and if a kill landed between the two renames
 * (target missing, previous content aside) the previous content is renamed back.
 * <p>
 * Leftovers are named {@code .<target>.attnspark-staging-<id>} (holding {@code <target>/}, the rows) and
 * {@code .<target>.attnspark-old-<id>} in the target's parent: the leading dot hides them from
 * Spark's file listing and partition discovery, so readers of the table never see them. Everything written into {@link #staging()} before {@link #commit()}
 * ({@code _attnspark_run.json}, metrics) is swapped in with the rows. Two runs of the same target
 * at once are not supported (the second one's cleanup deletes the first one's staging, which then fails).
 */
public final class OutputSwap {
    /** Test hook: milliseconds to sleep between the two renames of {@link #commit()} (to kill a run mid-swap). */
    static final String PAUSE_MID_SWAP_MS = "attnspark.test.pauseMidSwapMs";
    /**
     * Test hook: "true", or the name of one target (e.g. {@code date=2026-11-02}), makes {@link #commit()}
     * throw before touching that target (a failure after the write).
     */
    static final String FAIL_BEFORE_SWAP = "attnspark.test.failBeforeSwap";

    private static final String STAGING = ".attnspark-staging-";
    private static final String OLD = ".attnspark-old-";

    private final FileSystem fs;
    private final Path target;
    private final Path holder;
    private final Path staging;

    private OutputSwap(FileSystem fs, Path target, Path holder) {
        this.fs = fs;
        this.target = target;
        this.holder = holder;
        // The rows go one level down: Spark's readers skip a path whose own name starts with '.', and the
        // job reads the staged rows back for its counts; inside the hidden holder, the name is the target's.
        this.staging = new Path(holder, target.getName());
    }

    /** Recovers what earlier runs of {@code target} left, then picks a fresh staging path (not created yet). */
    public static OutputSwap begin(FileSystem fs, Path target) {
        Path qualified = fs.makeQualified(target);
        recover(fs, qualified);
        return new OutputSwap(fs, qualified, sibling(qualified, STAGING));
    }

    /** The committed location. */
    public Path target() {
        return target;
    }

    /** Where this run writes; everything here becomes the target's content on {@link #commit()}. */
    public Path staging() {
        return staging;
    }

    /** Swaps the complete staging directory in place of the target. */
    public void commit() {
        String fail = System.getProperty(FAIL_BEFORE_SWAP, "");
        if (fail.equals("true") || fail.equals(target.getName())) {
            throw new IllegalStateException("test hook " + FAIL_BEFORE_SWAP + ": failing before the swap of " + target);
        }
        try {
            if (!fs.getFileStatus(staging).isDirectory()) {
                throw new IOException(staging + " is not a directory");
            }
            Path aside = null;
            if (fs.exists(target)) {
                aside = sibling(target, OLD);
                rename(target, aside);
            }
            pauseForTests();
            try {
                rename(staging, target);
            } catch (IOException e) {
                if (aside != null) {
                    rename(aside, target); // put the previous content back at once rather than at the next run
                }
                throw e;
            }
            fs.delete(holder, true);
            if (aside != null) {
                fs.delete(aside, true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "could not swap the new output " + staging + " in for " + target + ": " + e.getMessage()
                            + "; the previous content is intact (or put back by the next run)",
                    e);
        }
    }

    /** Deletes the staging directory of a run that will not commit (best effort: the next run cleans up too). */
    public void abort() {
        try {
            fs.delete(holder, true);
        } catch (IOException | RuntimeException e) {
            // the next begin() for this target deletes it
        }
    }

    /**
     * What a killed run of {@code target} can leave: staging directories (deleted), and the
     * previous content renamed aside. With the target present, the aside copy is stale (the
     * kill came after the swap) and is deleted; with the target missing, the kill came between
     * the two renames, and the newest aside copy is the previous content: it is renamed back.
     */
    static void recover(FileSystem fs, Path target) {
        try {
            Path parent = target.getParent();
            if (parent == null || !fs.exists(parent)) {
                return;
            }
            List<FileStatus> old = new ArrayList<>();
            for (FileStatus s : fs.listStatus(parent)) {
                String n = s.getPath().getName();
                if (n.startsWith("." + target.getName() + STAGING)) {
                    fs.delete(s.getPath(), true);
                } else if (n.startsWith("." + target.getName() + OLD)) {
                    old.add(s);
                }
            }
            old.sort(Comparator.comparingLong(FileStatus::getModificationTime).reversed());
            if (!old.isEmpty() && !fs.exists(target)) {
                rename(fs, old.remove(0).getPath(), target);
            }
            for (FileStatus s : old) {
                fs.delete(s.getPath(), true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "could not clean up after an earlier run of " + target + ": " + e.getMessage() + "; look for ."
                            + target.getName() + STAGING + "* and ." + target.getName() + OLD + "* beside it",
                    e);
        }
    }

    private static Path sibling(Path target, String kind) {
        return new Path(target.getParent(), "." + target.getName() + kind + UUID.randomUUID());
    }

    private void rename(Path from, Path to) throws IOException {
        rename(fs, from, to);
    }

    private static void rename(FileSystem fs, Path from, Path to) throws IOException {
        if (fs.exists(to)) { // Hadoop's rename moves into an existing directory instead of replacing it
            throw new IOException("cannot rename " + from + " to " + to + ": it exists");
        }
        if (!fs.rename(from, to)) {
            throw new IOException("rename of " + from + " to " + to + " failed");
        }
    }

    private static void pauseForTests() {
        long ms = Long.getLong(PAUSE_MID_SWAP_MS, 0L);
        if (ms > 0) {
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
