package attnspark.job;

import attnspark.udf.DocPartitionFunction;
import attnspark.udf.EmbedPartitionFunction;
import attnspark.udf.JobCounters;
import attnspark.udf.ModelSource;
import attnspark.udf.OutputSchemas;
import attnspark.udf.ScorePartitionFunction;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructType;

/**
 * The embed and score jobs: read input (fail fast on bad input), map each partition through
 * the executor's model replica (one output row per input row, errors in the {@code error}
 * column), write Parquet or JSON lines through Spark's DataFrame writer into a staging directory,
 * read it back for the summary line, and swap it in for the output (or one partition of it) only
 * then ({@link OutputSwap}). {@code --since} runs a {@link Backfill} of dated partitions.
 */
public final class JobRunner {
    /** Exit codes: 0 ok, 1 failure (model, memory, Spark; one line on stderr), 2 usage or input error, 3 every row failed. */
    public static final int EXIT_OK = 0;

    public static final int EXIT_FAILED = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_ALL_ROWS_FAILED = 3;

    private JobRunner() {}

    /** The whole CLI: parse, start Spark, run, print; returns the exit code. */
    public static int main(JobSpec.Command command, String[] args, PrintStream out, PrintStream err) {
        JobSpec spec;
        try {
            Settings settings = Settings.resolve(command, Arrays.asList(args), Settings.Environment.current());
            if (settings.printConfig()) {
                out.print(settings.describe());
                return EXIT_OK;
            }
            spec = settings.spec();
        } catch (UsageException e) {
            if (e.helpRequested()) {
                out.print(e.getMessage());
                return EXIT_OK;
            }
            err.println("attnspark " + command.cliName() + ": " + e.getMessage());
            err.print(JobSpec.usage(command));
            return EXIT_USAGE;
        }
        String javaProblem = SupportedJava.problem();
        if (javaProblem != null) {
            err.println("attnspark " + command.cliName() + ": " + javaProblem);
            return EXIT_FAILED;
        }
        SparkSession spark = null;
        // a local master runs the tasks in this JVM: load (and JIT-compile) the model while Spark starts
        // (local-cluster[...] runs its executors in JVMs of their own)
        String dir = spec.model().modelDir();
        String master = master(spec, new SparkConf());
        boolean preload = (master.equals("local") || master.startsWith("local["))
                && (dir == null || ModelSource.isLocalPath(dir));
        try (DocPartitionFunction.Preload early =
                preload ? partitionFunction(spec).preloadInBackground() : null) {
            SparkWarmUp.start();
            spark = session(spec);
            if (spec.since() != null) {
                return Backfill.run(spark, spec, out, err);
            }
            return report(spark, spec, run(spark, spec, err), out, err);
        } catch (InputException | UsageException e) {
            err.println("attnspark " + command.cliName() + ": " + e.getMessage());
            return EXIT_USAGE;
        } catch (Throwable e) {
            // SparkException, Errors, anything: the CLI ends in one line; the trace only on request
            err.println("attnspark " + command.cliName() + ": failed: " + FailureMessage.of(e));
            if (spec.verbose() || JobSpec.verbose(args)) {
                e.printStackTrace(err);
            }
            return EXIT_FAILED;
        } finally {
            if (spark != null) {
                try {
                    spark.stop();
                } catch (RuntimeException e) {
                    err.println("attnspark " + command.cliName() + ": stopping Spark failed: " + FailureMessage.of(e));
                }
            }
        }
    }

    /** Prints what a run wrote; returns {@link #EXIT_ALL_ROWS_FAILED} when every row is an error row, else {@link #EXIT_OK}. */
    static int report(SparkSession spark, JobSpec spec, JobSummary summary, PrintStream out, PrintStream err) {
        String cmd = "attnspark " + spec.command().cliName();
        out.println(cmd + ": wrote " + summary.rows() + " rows (" + summary.errors() + " with errors) as "
                + summary.format() + " to " + summary.outputUri());
        out.println(summary.line());
        if (summary.rows() > 0 && summary.errors() == summary.rows()) {
            err.println(cmd + ": every row failed; see the error column, e.g. "
                    + firstError(spark, spec, summary.outputUri()));
            return EXIT_ALL_ROWS_FAILED;
        }
        return EXIT_OK;
    }

    /** Called by the mains: exits the JVM on failure (and always when -Dattnspark.exit=true, as the CLI sets). */
    static void mainAndExit(JobSpec.Command command, String[] args) {
        int code = main(command, args, System.out, System.err);
        System.out.flush();
        if (code != 0 || Boolean.getBoolean("attnspark.exit")) {
            System.exit(code);
        }
    }

    /**
     * A session for the spec: --master, else a --conf/--properties-file spark.master, else
     * spark-submit's, else local[*]; its file reads are split for the task slots ({@link TaskSlots}).
     */
    public static SparkSession session(JobSpec spec) {
        SparkConf conf = new SparkConf(); // picks up spark.* system properties set by spark-submit
        String master = master(spec, conf);
        SparkSession.Builder b = SparkSession.builder()
                .appName("attnspark " + spec.command().cliName())
                .master(master);
        spec.sparkConf().forEach(b::config); // --conf / --properties-file of the job's own command line
        if (master.startsWith("local")
                && !conf.contains("spark.sql.shuffle.partitions")
                && !spec.sparkConf().containsKey("spark.sql.shuffle.partitions")) {
            b.config("spark.sql.shuffle.partitions", "4");
        }
        SparkSession spark = b.getOrCreate();
        TaskSlots.splitFilesForSlots(spark);
        return spark;
    }

    /** --master, else a --conf/--properties-file spark.master, else {@code conf}'s (spark-submit's), else local[*]. */
    private static String master(JobSpec spec, SparkConf conf) {
        return spec.master() != null
                ? spec.master()
                : spec.sparkConf().containsKey("spark.master")
                        ? spec.sparkConf().get("spark.master")
                        : conf.contains("spark.master") ? conf.get("spark.master") : "local[*]";
    }

    /** {@link #run(SparkSession, JobSpec, PrintStream)} without progress lines. */
    public static JobSummary run(SparkSession spark, JobSpec spec) {
        return run(spark, spec, null);
    }

    /**
     * Runs the job on {@code spark}; throws {@link InputException} for bad input before any work.
     * With {@code progress} non-null, prints a progress line there every
     * {@code --progress-interval} seconds (default 10; 0 = none). Writes
     * {@link JobMetrics#FILE_NAME} into the output directory.
     */
    public static JobSummary run(SparkSession spark, JobSpec spec, PrintStream progress) {
        checkModelDir(spark, spec);
        checkOutputNotInput(spark, spec);
        Instant started = Instant.now();
        long start = System.nanoTime();
        Path target = target(spark, spec);
        FileSystem fs = fileSystem(spark, target);
        checkTarget(fs, spec, target);
        SparkContext sc = spark.sparkContext();
        Dataset<Row> input = InputReader.read(spark, spec);
        RunManifest planned = plan(spark, spec);
        JobCounters counters =
                JobCounters.register(sc, "attnspark." + spec.command().cliName());
        // the job runs nothing beside its model stage: its last tasks may take up the slots left idle
        DocPartitionFunction<?> fn =
                partitionFunction(spec).withCounters(counters).withIdleCores();
        // the tasks run in this JVM and will share this replica (does nothing when main() preloads it)
        DocPartitionFunction.Preload preload = sc.isLocal() ? fn.preloadInBackground() : null;
        ProgressReporter reporter = null;
        OutputSwap swap = null;
        JobTimeline timeline = null;
        try {
            sc.setJobGroup(
                    ProgressReporter.JOB_GROUP, "attnspark " + spec.command().cliName(), false);
            if (progress != null && spec.progressInterval() > 0) {
                // the total makes an ETA: counted on the driver where that is cheap, else one pass over
                // the input, cheap next to the model
                Dataset<Row> all = input;
                long total = InputReader.countedOnDriver(spark, spec.input()).orElseGet(all::count);
                reporter = ProgressReporter.start(
                        sc, counters, spec.command().cliName(), total, spec.progressInterval(), progress);
            }
            if (spec.partitions() > 0) {
                input = input.repartition(spec.partitions());
            } else {
                input = TaskSlots.fill(spark, input);
            }
            StructType schema = withKeptColumns(outputSchema(spec), input.schema());
            Dataset<Row> result = input.mapPartitions(fn, Encoders.row(schema));
            swap = OutputSwap.begin(fs, target);
            String staging = swap.staging().toString();
            timeline = JobTimeline.mark(sc);
            if (spec.format() == JobSpec.Format.JSONL) {
                result.write()
                        .mode(SaveMode.ErrorIfExists)
                        .option("ignoreNullFields", "false")
                        .json(staging);
            } else {
                // vectors and log-probs are near-unique floats and ids unique strings: parquet-mr's
                // dictionary encoding (ParquetProperties, on by default) fills a hash map per column
                // chunk only to fall back to plain encoding; it cost ~2 % of the job's CPU (JFR)
                result.write()
                        .mode(SaveMode.ErrorIfExists)
                        .option("parquet.enable.dictionary", "false")
                        .parquet(staging);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            // the summary's read of the output below is not the run's work: out of the progress count
            sc.clearJobGroup();
            JobTimeline.Breakdown breakdown = timeline.finish(
                    started.toEpochMilli(),
                    started.toEpochMilli() + Math.round(seconds * 1000),
                    TaskSlots.slots(spark));
            Row agg = read(spark, spec, staging)
                    .agg(
                            functions.count(functions.lit(1)),
                            functions.count(functions.col("error")),
                            functions.sum(functions.when(functions.col("error").isNull(), functions.col("n_tokens"))))
                    .first();
            long tokens = agg.isNullAt(2) ? 0L : agg.getLong(2);
            JobSummary summary = new JobSummary(
                    spec.command().cliName(),
                    agg.getLong(0),
                    agg.getLong(1),
                    tokens,
                    seconds,
                    spec.partition() == null
                            ? spec.output()
                            : spec.output() + "/" + spec.partition().dirName(),
                    target.toString(),
                    spec.format().cliName());
            // Files that describe this output (manifest, metrics) go into the staging directory before
            // the commit, so they appear, and are replaced, together with the rows.
            planned.withResults(summary, started, Instant.now()).write(fs, swap.staging());
            new JobMetrics(
                            spec.command().cliName(),
                            summary.rows(),
                            summary.errors(),
                            tokens,
                            counters.paddedTokens.value(),
                            seconds,
                            counters.modelLoadSeconds(),
                            breakdown,
                            target.toString())
                    .write(sc.hadoopConfiguration(), staging);
            swap.commit();
            if (reporter != null) {
                reporter.close();
                progress.println(reporter.line()); // the final count
            }
            if (progress != null && breakdown != null) {
                progress.println(breakdown.line(spec.command().cliName()));
            }
            return summary;
        } catch (RuntimeException | Error e) {
            if (swap != null) {
                swap.abort();
            }
            throw e;
        } finally {
            if (preload != null) {
                preload.close();
            }
            sc.clearJobGroup();
            if (reporter != null) {
                reporter.close();
            }
            if (timeline != null) {
                timeline.close();
            }
        }
    }

    /** What turns a partition of normalised input rows into output rows for {@code spec} (the UDFs use it too). */
    public static DocPartitionFunction<?> partitionFunction(JobSpec spec) {
        return spec.command() == JobSpec.Command.EMBED
                ? new EmbedPartitionFunction(spec.model(), spec.idCol(), spec.textCol(), spec.chunkRows())
                : new ScorePartitionFunction(
                        spec.model(), spec.idCol(), spec.textCol(), spec.chunkRows(), spec.perToken());
    }

    /** {@code _attnspark_run.json} of {@code spec} before it runs: input files, recorded options, model fingerprint. */
    static RunManifest plan(SparkSession spark, JobSpec spec) {
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        return new RunManifest(
                spec.command().cliName(),
                spec.partition() == null ? null : spec.partition().dirName(),
                qualified(spark, spec.input()).toString(),
                RunManifest.listInput(hadoop, spec.input()),
                spec.recordedOptions(),
                spec.model().modelDir() == null
                        ? "bundled all-MiniLM-L6-v2"
                        : spec.model().modelDir(),
                RunManifest.modelFingerprint(hadoop, spec.model().modelDir()),
                0,
                0,
                0,
                null,
                null,
                0);
    }

    /** Where {@code spec} commits: OUTPUT, or OUTPUT/KEY=VALUE with --partition (qualified). */
    public static Path target(SparkSession spark, JobSpec spec) {
        Path root = qualified(spark, spec.output());
        return spec.partition() == null ? root : new Path(root, spec.partition().dirName());
    }

    static FileSystem fileSystem(SparkSession spark, Path path) {
        try {
            return path.getFileSystem(spark.sparkContext().hadoopConfiguration());
        } catch (IOException e) {
            throw new InputException("no file system for " + path + ": " + e.getMessage());
        }
    }

    /**
     * A partition column must not clash with an output column; the whole output must not be a
     * partitioned table (replacing it would drop every partition, the mistake --partition exists for).
     */
    private static void checkTarget(FileSystem fs, JobSpec spec, Path target) {
        if (spec.partition() != null) {
            if (List.of(outputSchema(spec).fieldNames())
                    .contains(spec.partition().key())) {
                throw new UsageException(
                        "option --partition: '" + spec.partition().key() + "' is a column of the"
                                + " output rows; name the partition column otherwise (e.g. date=...)");
            }
            return;
        }
        try {
            if (!fs.exists(target) || !fs.getFileStatus(target).isDirectory()) {
                return;
            }
            List<String> partitions = new ArrayList<>();
            for (FileStatus s : fs.listStatus(target)) {
                String n = s.getPath().getName();
                if (s.isDirectory() && n.matches("[A-Za-z_][A-Za-z0-9_]*=.+")) {
                    partitions.add(n);
                }
            }
            if (!partitions.isEmpty()) {
                Collections.sort(partitions);
                throw new InputException("--output " + spec.output() + " is a partitioned table (" + partitions.get(0)
                        + (partitions.size() > 1 ? ", ... " + partitions.size() + " partitions" : "") + "); writing it"
                        + " whole would replace every partition. Pass --partition " + partitions.get(0)
                        + " (or --since/--until), or choose another --output");
            }
        } catch (IOException e) {
            throw new InputException("could not look at --output " + spec.output() + ": " + e.getMessage());
        }
    }

    /** {@code output} followed by the input's kept columns (those after its normalised three, see {@link InputReader}). */
    private static StructType withKeptColumns(StructType output, StructType input) {
        StructType out = output;
        for (int i = OutputSchemas.input().size(); i < input.size(); i++) {
            out = out.add(input.fields()[i]);
        }
        return out;
    }

    public static StructType outputSchema(JobSpec spec) {
        return spec.command() == JobSpec.Command.EMBED ? OutputSchemas.embed() : OutputSchemas.score(spec.perToken());
    }

    /** The committed output of {@code spec} (the whole table, partition columns included), with its declared schema. */
    public static Dataset<Row> readOutput(SparkSession spark, JobSpec spec) {
        return read(spark, spec, spec.output());
    }

    private static Dataset<Row> read(SparkSession spark, JobSpec spec, String dir) {
        if (spec.format() == JobSpec.Format.JSONL) {
            return spark.read().schema(outputSchema(spec)).json(dir);
        }
        return spark.read().parquet(dir);
    }

    private static String firstError(SparkSession spark, JobSpec spec, String dir) {
        try {
            Row r = read(spark, spec, dir)
                    .where(functions.col("error").isNotNull())
                    .select("error")
                    .first();
            return r.getString(0);
        } catch (RuntimeException e) {
            return "(could not read it back: " + e.getMessage() + ")";
        }
    }

    /**
     * Before any task: a model URI or archive must exist (Hadoop FileSystem, as the executors
     * will read it); a local directory is checked when the executors share this file system.
     */
    private static void checkModelDir(SparkSession spark, JobSpec spec) {
        try {
            ModelSource.check(
                    spec.model().modelDir(),
                    spark.sparkContext().getConf(),
                    spark.sparkContext().hadoopConfiguration(),
                    spark.sparkContext().master().startsWith("local"));
        } catch (ModelSource.ModelNotFoundException e) {
            throw new InputException(e.getMessage());
        }
    }

    /** Overwriting the output must never delete the input. */
    private static void checkOutputNotInput(SparkSession spark, JobSpec spec) {
        String in = qualified(spark, spec.input()).toString();
        String out = qualified(spark, spec.output()).toString();
        if (in.equals(out) || in.startsWith(out + "/") || out.startsWith(in + "/")) {
            throw new InputException("--output " + spec.output() + " overlaps --input " + spec.input()
                    + "; the output directory is replaced, so it must not contain or be inside the input");
        }
    }

    static Path qualified(SparkSession spark, String p) {
        Path path = new Path(p);
        try {
            FileSystem fs = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
            return fs.makeQualified(path);
        } catch (IOException | IllegalArgumentException e) {
            return path;
        }
    }
}
