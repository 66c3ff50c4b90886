package attnspark.job;

import attnspark.udf.EmbedPartitionFunction;
import attnspark.udf.JobCounters;
import attnspark.udf.ModelSource;
import attnspark.udf.OutputSchemas;
import attnspark.udf.ScorePartitionFunction;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.io.PrintStream;

/**
 * The embed and score jobs: read input (fail fast on bad input), map each partition through
 * the executor's model replica (one output row per input row, errors in the {@code error}
 * column), write Parquet or JSON lines through Spark's DataFrame writer (overwrite, commit
 * protocol), then read the committed output back for the summary line.
 */
public final class JobRunner {
    /** Exit codes: 0 ok, 1 failure (model, memory, Spark; one line on stderr), 2 usage or input error, 3 every row failed. */
    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILED = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_ALL_ROWS_FAILED = 3;

    /** Seconds between progress lines on stderr; 0 = none. */
    public static final String PROGRESS_INTERVAL_KEY = "spark.attnspark.progress-interval";
    static final double DEFAULT_PROGRESS_SECONDS = 10;

    private JobRunner() {
    }

    /** The whole CLI: parse, start Spark, run, print; returns the exit code. */
    public static int main(JobSpec.Command command, String[] args, PrintStream out, PrintStream err) {
        JobSpec spec;
        try {
            spec = JobSpec.parse(command, args);
        } catch (UsageException e) {
            if (e.helpRequested()) {
                out.print(e.getMessage());
                return EXIT_OK;
            }
            err.println("attnspark " + command.cliName() + ": " + e.getMessage());
            err.print(JobSpec.usage(command));
            return EXIT_USAGE;
        }
        SparkSession spark = null;
        try {
            spark = session(spec);
            JobSummary summary = run(spark, spec, err);
            out.println("attnspark " + command.cliName() + ": wrote " + summary.rows() + " rows (" + summary.errors()
                    + " with errors) as " + summary.format() + " to " + summary.outputUri());
            out.println(summary.line());
            if (summary.rows() > 0 && summary.errors() == summary.rows()) {
                err.println("attnspark " + command.cliName() + ": every row failed; see the error column, e.g. "
                        + firstError(spark, spec));
                return EXIT_ALL_ROWS_FAILED;
            }
            return EXIT_OK;
        } catch (InputException | UsageException e) {
            err.println("attnspark " + command.cliName() + ": " + e.getMessage());
            return EXIT_USAGE;
        } catch (Throwable e) {
            // SparkException, Errors, anything: the CLI ends in one line; the trace only on request
            err.println("attnspark " + command.cliName() + ": failed: " + FailureMessage.of(e));
            if (JobSpec.verbose(args)) {
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

    /** Called by the mains: exits the JVM on failure (and always when -Dattnspark.exit=true, as the CLI sets). */
    static void mainAndExit(JobSpec.Command command, String[] args) {
        int code = main(command, args, System.out, System.err);
        System.out.flush();
        if (code != 0 || Boolean.getBoolean("attnspark.exit")) {
            System.exit(code);
        }
    }

    /** A session for the spec: --master, else spark-submit's master, else local[*]. */
    public static SparkSession session(JobSpec spec) {
        SparkConf conf = new SparkConf(); // picks up spark.* system properties set by spark-submit
        String master = spec.master() != null ? spec.master()
                : conf.contains("spark.master") ? conf.get("spark.master") : "local[*]";
        SparkSession.Builder b = SparkSession.builder().appName("attnspark " + spec.command().cliName()).master(master);
        if (master.startsWith("local") && !conf.contains("spark.sql.shuffle.partitions")) {
            b.config("spark.sql.shuffle.partitions", "4");
        }
        return b.getOrCreate();
    }

    /** Runs the job on {@code spark} without progress lines; throws {@link InputException} for bad input before any work. */
    public static JobSummary run(SparkSession spark, JobSpec spec) {
        return run(spark, spec, null);
    }

    /**
     * Runs the job on {@code spark}; throws {@link InputException} for bad input before any work.
     * With {@code progress} non-null, prints a progress line there every
     * {@value #PROGRESS_INTERVAL_KEY} seconds (default 10; 0 = none). Writes
     * {@link JobMetrics#FILE_NAME} into the output directory.
     */
    public static JobSummary run(SparkSession spark, JobSpec spec, PrintStream progress) {
        checkModelDir(spark, spec);
        checkOutputNotInput(spark, spec);
        long start = System.nanoTime();
        SparkContext sc = spark.sparkContext();
        Dataset<Row> input = InputReader.read(spark, spec);
        double interval = spark.conf().contains(PROGRESS_INTERVAL_KEY)
                ? Double.parseDouble(spark.conf().get(PROGRESS_INTERVAL_KEY)) : DEFAULT_PROGRESS_SECONDS;
        JobCounters counters = JobCounters.register(sc, "attnspark." + spec.command().cliName());
        ProgressReporter reporter = null;
        try {
            sc.setJobGroup(ProgressReporter.JOB_GROUP, "attnspark " + spec.command().cliName(), false);
            if (progress != null && interval > 0) {
                // the total makes an ETA: one pass over the input, cheap next to the model
                long total = input.count();
                reporter = ProgressReporter.start(sc, counters, spec.command().cliName(), total, interval, progress);
            }
            if (spec.partitions() > 0) {
                input = input.repartition(spec.partitions());
            }
            StructType schema = outputSchema(spec);
            MapPartitionsFunction<Row, Row> fn = (spec.command() == JobSpec.Command.EMBED
                    ? new EmbedPartitionFunction(spec.model(), spec.idCol(), spec.textCol(), spec.chunkRows())
                    : new ScorePartitionFunction(spec.model(), spec.idCol(), spec.textCol(), spec.chunkRows(), spec.perToken()))
                    .withCounters(counters);
            Dataset<Row> result = input.mapPartitions(fn, Encoders.row(schema));
            if (spec.format() == JobSpec.Format.JSONL) {
                result.write().mode(SaveMode.Overwrite).option("ignoreNullFields", "false").json(spec.output());
            } else {
                result.write().mode(SaveMode.Overwrite).parquet(spec.output());
            }
        } finally {
            sc.clearJobGroup();
            if (reporter != null) {
                reporter.close();
                progress.println(reporter.line());
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Row agg = readOutput(spark, spec)
                .agg(functions.count(functions.lit(1)), functions.count(functions.col("error")),
                        functions.sum(functions.when(functions.col("error").isNull(), functions.col("n_tokens"))))
                .first();
        long tokens = agg.isNullAt(2) ? 0L : agg.getLong(2);
        new JobMetrics(spec.command().cliName(), agg.getLong(0), agg.getLong(1), tokens, counters.paddedTokens.value(),
                seconds, counters.modelLoadSeconds(), qualified(spark, spec.output()).toString())
                .write(sc.hadoopConfiguration(), spec.output());
        return new JobSummary(spec.command().cliName(), agg.getLong(0), agg.getLong(1), tokens, seconds,
                spec.output(), qualified(spark, spec.output()).toString(), spec.format().cliName());
    }

    public static StructType outputSchema(JobSpec spec) {
        return spec.command() == JobSpec.Command.EMBED ? OutputSchemas.embed() : OutputSchemas.score(spec.perToken());
    }

    /** The committed output of {@code spec}, with its declared schema. */
    public static Dataset<Row> readOutput(SparkSession spark, JobSpec spec) {
        if (spec.format() == JobSpec.Format.JSONL) {
            return spark.read().schema(outputSchema(spec)).json(spec.output());
        }
        return spark.read().parquet(spec.output());
    }

    private static String firstError(SparkSession spark, JobSpec spec) {
        try {
            Row r = readOutput(spark, spec).where(functions.col("error").isNotNull()).select("error").first();
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
            ModelSource.check(spec.model().modelDir(), spark.sparkContext().getConf(),
                    spark.sparkContext().hadoopConfiguration(), spark.sparkContext().master().startsWith("local"));
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

    private static Path qualified(SparkSession spark, String p) {
        Path path = new Path(p);
        try {
            FileSystem fs = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
            return fs.makeQualified(path);
        } catch (IOException | IllegalArgumentException e) {
            return path;
        }
    }
}
