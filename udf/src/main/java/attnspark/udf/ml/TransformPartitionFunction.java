package attnspark.udf.ml;

import attnspark.udf.DocPartitionFunction;
import attnspark.udf.OutputSchemas;
import java.io.Serializable;
import java.util.Iterator;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructType;

/**
 * A transformer's partition: each input row goes through the job's {@link DocPartitionFunction}
 * as a normalised row (id, text, no corrupt record) that carries the whole input row along;
 * the output is the input row with the model's value and the error appended.
 */
final class TransformPartitionFunction implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    /** The transformer's output value, picked out of a successful job row laid out as {@code jobSchema}. */
    @FunctionalInterface
    interface OutputValue extends Serializable {
        Object of(Row jobRow, StructType jobSchema);
    }

    private final DocPartitionFunction<?> job;
    private final OutputValue outputValue;
    private final int textIndex;
    private final int idIndex;
    private final boolean withErrorCol;

    /** {@code idIndex} -1: rows are named in messages by their position in the partition. */
    TransformPartitionFunction(
            DocPartitionFunction<?> job, OutputValue outputValue, int textIndex, int idIndex, boolean withErrorCol) {
        this.job = job;
        this.outputValue = outputValue;
        this.textIndex = textIndex;
        this.idIndex = idIndex;
        this.withErrorCol = withErrorCol;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        TaskContext tc = TaskContext.get();
        int partition = tc == null ? 0 : tc.partitionId();
        StructType jobSchema = job.outputSchema();
        int errorIndex = jobSchema.fieldIndex(OutputSchemas.ERROR);
        int carried = jobSchema.size(); // DocPartitionFunction appends the carried input row here
        Iterator<Row> normalised = new Iterator<>() {
            long position;

            @Override
            public boolean hasNext() {
                return rows.hasNext();
            }

            @Override
            public Row next() {
                Row r = rows.next();
                position++;
                Object id = idIndex < 0
                        ? position + " of partition " + partition
                        : r.isNullAt(idIndex) ? null : String.valueOf(r.get(idIndex));
                return RowFactory.create(id, r.isNullAt(textIndex) ? null : r.getString(textIndex), null, r);
            }
        };
        Iterator<Row> jobRows = job.call(normalised);
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return jobRows.hasNext();
            }

            @Override
            public Row next() {
                Row jobRow = jobRows.next();
                Row input = jobRow.getStruct(carried);
                String error = jobRow.isNullAt(errorIndex) ? null : jobRow.getString(errorIndex);
                if (error != null && !withErrorCol) {
                    throw new IllegalStateException(error + " (set errorCol to keep going with an error column)");
                }
                Object[] values = new Object[input.size() + (withErrorCol ? 2 : 1)];
                for (int c = 0; c < input.size(); c++) {
                    values[c] = input.get(c);
                }
                values[input.size()] = error == null ? outputValue.of(jobRow, jobSchema) : null;
                if (withErrorCol) {
                    values[input.size() + 1] = error;
                }
                return RowFactory.create(values);
            }
        };
    }
}
