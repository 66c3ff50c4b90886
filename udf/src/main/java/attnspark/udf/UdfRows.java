package attnspark.udf;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/** One text through a job's partition function, as the row-at-a-time UDFs call it. */
final class UdfRows {
    /** How the job names the UDF's row in an error; stripped again, a UDF row has no id. */
    private static final String ROW_ID = "udf";

    private UdfRows() {}

    /**
     * The job's output row for {@code text} (non-null), {@code error} without the job's
     * "row ID: " prefix. Uses the running task's cores, as the job's partitions do.
     */
    static Row run(DocPartitionFunction<?> job, String text) {
        GpuBinding.bindCurrentTask();
        Row row;
        try (var threads = TaskThreads.open()) {
            row = job.processOne(ROW_ID, text);
        }
        int e = job.outputSchema().fieldIndex(OutputSchemas.ERROR);
        String prefix = "row " + ROW_ID + ": ";
        if (row.isNullAt(e) || !row.getString(e).startsWith(prefix)) {
            return row;
        }
        Object[] values = new Object[row.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = row.get(i);
        }
        values[e] = row.getString(e).substring(prefix.length());
        return RowFactory.create(values);
    }
}
