package attnspark.job;

import attnspark.udf.OutputSchemas;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.TreeSet;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Reads the job input into the normalised layout {@link OutputSchemas#input()} ({@code id}
 * cast to string, {@code text}, {@code _corrupt_record}), failing fast on a missing input, an
 * unknown format or a missing id/text column. The format comes from the file extension
 * (.jsonl/.json/.ndjson, .parquet, .csv; compression suffixes allowed); for a directory or glob,
 * from the files inside. JSON lines and CSV are read in PERMISSIVE mode with a
 * {@code _corrupt_record} column, so a malformed line becomes an error row instead of a lost row.
 */
public final class InputReader {
    public enum InputFormat {
        JSON,
        PARQUET,
        CSV
    }

    /** Lines used to find the JSON columns (the full read then uses an explicit schema: one pass). */
    static final int JSON_SAMPLE_LINES = 1000;

    private static final List<String> COMPRESSION =
            List.of(".gz", ".bz2", ".deflate", ".zst", ".lz4", ".snappy", ".xz");

    private InputReader() {}

    public static Dataset<Row> read(SparkSession spark, JobSpec spec) {
        InputFiles files = list(spark, spec.input());
        InputFormat format = files.format();
        String path = spec.input();
        String idCol = spec.idCol();
        String textCol = spec.textCol();
        Dataset<Row> df;
        boolean hasCorrupt;
        switch (format) {
            case JSON -> {
                StructType schema = new StructType();
                List<StructField> kept;
                if (spec.keepColumns().isEmpty()) {
                    // the job reads only its id and text columns, as strings: their names come from the
                    // first lines, read here (Spark's schema inference would run two jobs for them)
                    List<String> found = peekFieldNames(spark, files);
                    requireColumns(spec, found);
                    kept = List.of();
                    schema = schema.add(fieldName(found, idCol), DataTypes.StringType, true)
                            .add(fieldName(found, textCol), DataTypes.StringType, true);
                } else {
                    // kept columns keep the types Spark infers for them
                    Dataset<String> sample = spark.read().textFile(path).limit(JSON_SAMPLE_LINES);
                    StructType found = spark.read()
                            .option("mode", "PERMISSIVE")
                            .json(sample)
                            .schema();
                    List<String> names = List.of(found.fieldNames());
                    requireColumns(spec, names);
                    kept = keptColumns(spec, found);
                    schema = schema.add(fieldName(names, idCol), DataTypes.StringType, true)
                            .add(fieldName(names, textCol), DataTypes.StringType, true);
                }
                for (StructField k : kept) {
                    if (!List.of(schema.fieldNames()).contains(k.name())) {
                        schema = schema.add(k); // the id/text columns are read as strings
                    }
                }
                schema = schema.add(OutputSchemas.CORRUPT, DataTypes.StringType, true);
                df = spark.read()
                        .schema(schema)
                        .option("mode", "PERMISSIVE")
                        .option("columnNameOfCorruptRecord", OutputSchemas.CORRUPT)
                        .json(path);
                hasCorrupt = true;
            }
            case CSV -> {
                StructType header =
                        spark.read().option("header", "true").csv(path).schema();
                requireColumns(spec, List.of(header.fieldNames()));
                StructType schema = header.add(OutputSchemas.CORRUPT, DataTypes.StringType, true);
                df = spark.read()
                        .schema(schema)
                        .option("header", "true")
                        .option("multiLine", "true")
                        .option("escape", "\"")
                        .option("mode", "PERMISSIVE")
                        .option("columnNameOfCorruptRecord", OutputSchemas.CORRUPT)
                        .csv(path);
                hasCorrupt = true;
            }
            default -> {
                df = spark.read().parquet(path);
                requireColumns(spec, List.of(df.schema().fieldNames()));
                hasCorrupt = false;
            }
        }
        Column corrupt = hasCorrupt
                ? df.col(quote(OutputSchemas.CORRUPT))
                : functions.lit(null).cast(DataTypes.StringType);
        List<Column> columns = new ArrayList<>(List.of(
                df.col(quote(idCol)).cast(DataTypes.StringType).as(OutputSchemas.ID),
                df.col(quote(textCol)).cast(DataTypes.StringType).as(OutputSchemas.TEXT),
                corrupt.as(OutputSchemas.CORRUPT)));
        for (StructField kept : keptColumns(spec, df.schema())) {
            columns.add(df.col(quote(kept.name())).as(kept.name())); // carried after the three (DocPartitionFunction)
        }
        return df.select(columns.toArray(new Column[0]));
    }

    /**
     * The input columns {@code --keep-columns} copies into the output rows, as found in
     * {@code schema}: the named ones, or with {@code *} every column but the id column. Fails
     * before any task for a named column the input lacks (listing those it has) and for a
     * column whose name an output column already has.
     */
    static List<StructField> keptColumns(JobSpec spec, StructType schema) {
        List<String> available = new ArrayList<>();
        for (String f : schema.fieldNames()) {
            if (!f.equals(OutputSchemas.CORRUPT)) {
                available.add(f);
            }
        }
        List<String> names = new ArrayList<>();
        if (spec.keepColumns().equals(List.of(JobOption.ALL_COLUMNS))) {
            String id = fieldName(schema, spec.idCol());
            available.stream().filter(f -> !f.equals(id)).forEach(names::add);
        } else {
            for (String wanted : spec.keepColumns()) {
                String name = fieldName(schema, wanted);
                if (!available.contains(name)) {
                    throw new InputException("option --keep-columns: input " + spec.input() + " has no column '"
                            + wanted + "' (columns found: " + String.join(", ", available) + ")");
                }
                names.add(name);
            }
        }
        List<String> output = List.of(JobRunner.outputSchema(spec).fieldNames());
        List<StructField> kept = new ArrayList<>();
        for (String name : names) {
            if (output.stream().anyMatch(o -> o.equalsIgnoreCase(name))) {
                throw new InputException("option --keep-columns: input column '" + name + "' has the name of an output"
                        + " column (" + String.join(", ", output) + "); rename it in the input, or leave it out"
                        + (spec.keepColumns().contains(JobOption.ALL_COLUMNS) ? " by naming the columns to keep" : ""));
            }
            kept.add(schema.apply(name));
        }
        return kept;
    }

    private static String quote(String name) {
        return "`" + name.replace("`", "``") + "`";
    }

    private static String fieldName(StructType schema, String wanted) {
        return fieldName(List.of(schema.fieldNames()), wanted);
    }

    /** {@code wanted} as {@code names} spell it: the exact name, else the first that differs only in case. */
    private static String fieldName(List<String> names, String wanted) {
        for (String f : names) {
            if (f.equals(wanted)) {
                return f;
            }
        }
        for (String f : names) {
            if (f.equalsIgnoreCase(wanted)) {
                return f;
            }
        }
        return wanted;
    }

    static void requireColumns(JobSpec spec, List<String> columns) {
        List<String> names = new ArrayList<>();
        for (String f : columns) {
            if (!f.equals(OutputSchemas.CORRUPT)) {
                names.add(f);
            }
        }
        for (String[] c : new String[][] {{spec.idCol(), "--id-col"}, {spec.textCol(), "--text-col"}}) {
            boolean present = names.stream().anyMatch(n -> n.equalsIgnoreCase(c[0]));
            if (!present) {
                throw new InputException("input " + spec.input() + " has no column '" + c[0] + "' (columns found: "
                        + (names.isEmpty() ? "none" : String.join(", ", names)) + "); name the right one with " + c[1]);
            }
        }
    }

    /** The input's format (from the extension of the path, or of the data files under it) and its data files. */
    record InputFiles(InputFormat format, List<FileStatus> files, boolean complete) {}

    /** Data files listed at most; past them the format is decided on these and {@link InputFiles#complete} is false. */
    static final int MAX_LISTED = 10_000;

    static InputFiles list(SparkSession spark, String input) {
        Path path = new Path(input);
        try {
            FileSystem fs = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
            FileStatus[] matches = fs.globStatus(path);
            if (matches == null || matches.length == 0) {
                throw new InputException("input not found: " + input);
            }
            TreeSet<String> formats = new TreeSet<>();
            List<String> unknown = new ArrayList<>();
            List<FileStatus> files = new ArrayList<>();
            boolean complete = true;
            for (FileStatus st : matches) {
                if (st.isFile()) {
                    files.add(st);
                    classify(st.getPath().getName(), formats, unknown);
                    continue;
                }
                RemoteIterator<LocatedFileStatus> it = fs.listFiles(st.getPath(), true);
                int seen = 0;
                while (it.hasNext()) {
                    LocatedFileStatus f = it.next();
                    String rel = f.getPath()
                            .toUri()
                            .getPath()
                            .substring(st.getPath().toUri().getPath().length());
                    if (Arrays.stream(rel.split("/")).anyMatch(s -> s.startsWith("_") || s.startsWith("."))) {
                        continue; // _SUCCESS, _temporary, .crc, hidden
                    }
                    if (++seen > MAX_LISTED) {
                        complete = false;
                        break;
                    }
                    files.add(f);
                    classify(f.getPath().getName(), formats, unknown);
                }
            }
            if (files.isEmpty()) {
                throw new InputException("input " + input + " has no data files");
            }
            if (formats.size() > 1) {
                throw new InputException("input " + input + " mixes formats " + formats + "; give one format per run");
            }
            if (formats.isEmpty()) {
                throw new InputException("cannot tell the format of input " + input + " from its file names "
                        + unknown.subList(0, Math.min(5, unknown.size()))
                        + "; expected .jsonl/.json/.ndjson, .parquet or .csv");
            }
            return new InputFiles(InputFormat.valueOf(formats.first()), files, complete);
        } catch (IOException e) {
            throw new InputException("cannot read input " + input + ": " + e.getMessage());
        }
    }

    private static List<String> peekFieldNames(SparkSession spark, InputFiles files) {
        try {
            return JsonLinesPeek.fieldNames(
                    spark.sparkContext().hadoopConfiguration(), files.files(), JSON_SAMPLE_LINES);
        } catch (IOException e) {
            throw new InputException("cannot read input " + files.files().get(0).getPath() + ": " + e.getMessage());
        }
    }

    /**
     * The input's rows counted on the driver without a Spark job, where that is cheap: JSON lines,
     * uncompressed, up to {@link JsonLinesPeek#MAX_COUNTED_BYTES} ({@link JsonLinesPeek#records}).
     */
    static OptionalLong countedOnDriver(SparkSession spark, String input) {
        InputFiles files = list(spark, input);
        if (files.format() != InputFormat.JSON || !files.complete()) {
            return OptionalLong.empty();
        }
        try {
            return JsonLinesPeek.records(
                    spark.sparkContext().hadoopConfiguration(), files.files(), JsonLinesPeek.MAX_COUNTED_BYTES);
        } catch (IOException e) {
            return OptionalLong.empty(); // the Spark count meets it again and says so
        }
    }

    private static void classify(String fileName, TreeSet<String> formats, List<String> unknown) {
        String name = fileName.toLowerCase(Locale.ROOT);
        for (String c : COMPRESSION) {
            if (name.endsWith(c) && !name.endsWith(".parquet")) {
                name = name.substring(0, name.length() - c.length());
                break;
            }
        }
        if (name.endsWith(".jsonl") || name.endsWith(".json") || name.endsWith(".ndjson")) {
            formats.add(InputFormat.JSON.name());
        } else if (name.endsWith(".parquet")) {
            formats.add(InputFormat.PARQUET.name());
        } else if (name.endsWith(".csv")) {
            formats.add(InputFormat.CSV.name());
        } else {
            unknown.add(fileName);
        }
    }
}
