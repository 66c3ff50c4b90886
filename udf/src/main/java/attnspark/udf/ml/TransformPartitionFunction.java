package attnspark.udf.ml;

import attnspark.kernels.Parallel;
import attnspark.udf.BatchedCalls;
import attnspark.udf.ChunkingIterator;
import attnspark.udf.GpuBinding;
import attnspark.udf.Outcome;
import attnspark.udf.TaskThreads;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Function;

/** Appends the model output (and optionally an error) to each row; batched per chunk of rows. */
abstract class TransformPartitionFunction implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final int inputIndex;
    private final String inputName;
    private final boolean withErrorCol;
    private final int chunkRows;

    TransformPartitionFunction(int inputIndex, String inputName, boolean withErrorCol, int chunkRows) {
        this.inputIndex = inputIndex;
        this.inputName = inputName;
        this.withErrorCol = withErrorCol;
        this.chunkRows = chunkRows;
    }

    /** The replica (loaded here, so a load failure fails the job) as a batch function: one value per text. */
    abstract Function<List<String>, List<Object>> model();

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        GpuBinding.bindCurrentTask();
        int cpus = TaskThreads.cpus();
        long[] seen = {0};
        return new ChunkingIterator<>(rows, chunkRows, chunk -> {
            try (var threads = Parallel.scope(cpus)) {
                return process(chunk, seen);
            }
        });
    }

    private List<Row> process(List<Row> chunk, long[] seen) {
        int n = chunk.size();
        List<String> texts = new ArrayList<>(n);
        List<Integer> at = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Row r = chunk.get(i);
            String text = r.isNullAt(inputIndex) ? null : r.getString(inputIndex);
            if (text != null && !text.isEmpty()) {
                texts.add(text);
                at.add(i);
            }
        }
        Object[] values = new Object[n];
        String[] errors = new String[n];
        List<Outcome<Object>> outcomes = texts.isEmpty() ? List.of() : BatchedCalls.run(texts, model());
        for (int k = 0; k < outcomes.size(); k++) {
            int i = at.get(k);
            Outcome<Object> o = outcomes.get(k);
            if (o.isOk()) {
                values[i] = o.value();
            } else if (withErrorCol) {
                errors[i] = o.error();
            } else {
                throw new IllegalStateException("row " + (seen[0] + i + 1) + " of this partition (column '"
                        + inputName + "'): " + o.error() + " (set errorCol to keep going with an error column)");
            }
        }
        seen[0] += n;
        List<Row> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Row r = chunk.get(i);
            int width = r.size() + (withErrorCol ? 2 : 1);
            Object[] vals = new Object[width];
            for (int c = 0; c < r.size(); c++) {
                vals[c] = r.get(c);
            }
            vals[r.size()] = values[i];
            if (withErrorCol) {
                vals[r.size() + 1] = errors[i];
            }
            out.add(RowFactory.create(vals));
        }
        return out;
    }
}
