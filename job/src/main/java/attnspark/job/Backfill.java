package attnspark.job;

import java.io.IOException;
import java.io.PrintStream;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/**
 * {@code --since D1 [--until D2]}: each input directory {@code INPUT/date=D/} with D in the range
 * is run as its own committed partition {@code OUTPUT/date=D/} (stage, then swap; see
 * {@link JobRunner#run}). A date whose {@code _attnspark_run.json} records the same input files,
 * options and model is skipped, so a backfill that was interrupted, run again, does only what is
 * missing, and a date whose input changed is done again. One date failing does not stop the others;
 * the exit code is that of the worst date.
 */
final class Backfill {
    private Backfill() {}

    /** Runs the backfill of {@code spec} (which has {@code since}); prints one line per date and a total; returns the exit code. */
    static int run(SparkSession spark, JobSpec spec, PrintStream out, PrintStream err) {
        String cmd = "attnspark " + spec.command().cliName();
        TreeMap<LocalDate, Path> dates = inputDates(spark, spec);
        LocalDate until = spec.until() != null ? spec.until() : dates.isEmpty() ? spec.since() : dates.lastKey();
        List<LocalDate> missing = new ArrayList<>();
        for (LocalDate d = spec.since(); !d.isAfter(until); d = d.plusDays(1)) {
            if (!dates.containsKey(d)) {
                missing.add(d);
            }
        }
        if (dates.isEmpty()) {
            throw new InputException("no input directories " + spec.input() + "/date=YYYY-MM-DD/ from " + spec.since()
                    + " to " + until + "; --since/--until read an input laid out by date");
        }
        int written = 0;
        int skipped = 0;
        List<String> failed = new ArrayList<>();
        int exit = JobRunner.EXIT_OK;
        for (var e : dates.entrySet()) {
            JobSpec day = spec.forPartition(e.getValue().toString(), OutputPartition.date(e.getKey()));
            String label = cmd + ": " + day.partition().dirName();
            try {
                Path target = JobRunner.target(spark, day);
                RunManifest done = RunManifest.read(JobRunner.fileSystem(spark, target), target);
                if (JobRunner.plan(spark, day).sameWork(done)) {
                    out.println(label + ": skipped, committed with the same input files, options and model ("
                            + new Path(target, RunManifest.FILE_NAME) + ")");
                    skipped++;
                    continue;
                }
                out.println(label + ": running on " + day.input());
                int code = JobRunner.report(spark, day, JobRunner.run(spark, day, err), out, err);
                if (code != JobRunner.EXIT_OK && exit == JobRunner.EXIT_OK) {
                    exit = code; // every row of this date failed; a failed date (below) outranks it
                }
                written++;
            } catch (RuntimeException | Error ex) {
                err.println(label + ": failed: " + FailureMessage.of(ex));
                if (spec.verbose()) {
                    ex.printStackTrace(err);
                }
                failed.add(day.partition().dirName());
                exit = JobRunner.EXIT_FAILED;
            }
        }
        out.println(cmd + ": backfill " + spec.since() + ".." + until + ": " + written + " written, " + skipped
                + " skipped (already committed), " + failed.size() + " failed" + (failed.isEmpty() ? "" : " " + failed)
                + (missing.isEmpty() ? "" : ", no input for " + missing.size() + " date(s): " + summarize(missing)));
        return exit;
    }

    /** INPUT's date=YYYY-MM-DD directories from --since to --until (or on). */
    private static TreeMap<LocalDate, Path> inputDates(SparkSession spark, JobSpec spec) {
        Path root = JobRunner.qualified(spark, spec.input());
        FileSystem fs = JobRunner.fileSystem(spark, root);
        TreeMap<LocalDate, Path> dates = new TreeMap<>();
        try {
            if (!fs.exists(root) || !fs.getFileStatus(root).isDirectory()) {
                throw new InputException("--input " + spec.input() + " is not a directory; --since/--until read"
                        + " INPUT/date=YYYY-MM-DD/ directories");
            }
            for (FileStatus s : fs.listStatus(root)) {
                String n = s.getPath().getName();
                if (!s.isDirectory() || !n.startsWith("date=")) {
                    continue;
                }
                LocalDate d;
                try {
                    d = LocalDate.parse(n.substring("date=".length()));
                } catch (DateTimeParseException e) {
                    throw new InputException("input directory " + s.getPath() + " is not date=YYYY-MM-DD; rename it"
                            + " or move it out of " + spec.input());
                }
                if (!d.isBefore(spec.since()) && (spec.until() == null || !d.isAfter(spec.until()))) {
                    dates.put(d, s.getPath());
                }
            }
        } catch (IOException e) {
            throw new InputException("could not list --input " + spec.input() + ": " + e.getMessage());
        }
        return dates;
    }

    private static String summarize(List<LocalDate> dates) {
        return dates.size() <= 5 ? dates.toString() : "[" + dates.get(0) + " ... " + dates.get(dates.size() - 1) + "]";
    }
}
