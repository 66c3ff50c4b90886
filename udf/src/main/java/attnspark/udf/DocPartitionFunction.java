package attnspark.udf;

import attnspark.api.ModelOptions;
import attnspark.kernels.KernelWarmUp;
import attnspark.kernels.Parallel;
import attnspark.models.TokenBudgetBatches;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.IntSupplier;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructType;

/**
 * Turns a partition of normalised input rows ({@link OutputSchemas#input()}: id, text,
 * _corrupt_record) into output rows, one per input row, in input order. Rows that cannot be
 * processed (malformed record, null/empty id, null text, model failure on that text)
 * become error rows; the rest go to the model in chunks of {@code chunkRows} texts (the model
 * batches them by token budget). When a whole chunk call throws, the chunk is retried text by
 * text so only the bad row carries the error. Input columns after the normalised three
 * (the job's {@code --keep-columns}, the transformers' pass-through columns) are appended to
 * each output row unchanged. The job, the ML transformers and the SQL UDFs all go through
 * {@link #processChunk}, so they treat null, empty and failing texts alike.
 *
 * @param <R> the model's per-text result
 */
public abstract class DocPartitionFunction<R> implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    /** Texts per model call. */
    public static final int DEFAULT_CHUNK_ROWS = 512;

    private static final int PREVIEW_CHARS = 80;
    /** id, text, _corrupt_record ({@link OutputSchemas#input()}); columns after them are carried through. */
    private static final int NORMALISED_COLUMNS = 3;

    protected final ModelOptions options;
    private final String idName;
    private final String textName;
    private final int chunkRows;
    private JobCounters counters;
    private boolean idleCores;

    protected DocPartitionFunction(ModelOptions options, String idName, String textName, int chunkRows) {
        this.options = options;
        this.idName = idName;
        this.textName = textName;
        this.chunkRows = chunkRows;
    }

    /** The options the replica is built from. */
    public ModelOptions options() {
        return options;
    }

    /** Counts every chunk's rows, errors, tokens and padded tokens (and the model load) into {@code c}. */
    public DocPartitionFunction<R> withCounters(JobCounters c) {
        this.counters = c;
        return this;
    }

    /**
     * Lets each task's model calls take up cores its executor leaves idle ({@link
     * TaskThreads#withIdleCores}); for a job that runs nothing beside this function's stage.
     */
    public DocPartitionFunction<R> withIdleCores() {
        this.idleCores = true;
        return this;
    }

    /** Tokens of a result, as its {@code n_tokens} column says. */
    protected abstract int tokens(R result);

    /** The sequence length the model batched for a result (for padded tokens). */
    protected abstract int batchedLength(R result);

    /** Seconds this JVM took to load the replica, -1 if not loaded. */
    protected abstract double loadSeconds();

    /**
     * This executor's replica as a batch function over non-null, non-empty texts (one result
     * per text). Loading happens here, outside the per-row error handling: a model that cannot
     * be loaded fails the task (and the job) instead of turning every row into an error.
     */
    protected abstract Function<List<String>, List<R>> model();

    protected abstract Row okRow(String id, R result);

    /**
     * Starts loading this JVM's replica on a daemon thread, for a driver whose JVM also runs the
     * tasks (local mode): the load then overlaps Spark's start-up and the driver's planning
     * instead of holding up every model task at its start. Once loaded, the thread keeps the
     * model busy on {@link #warmUpTexts() synthetic texts} until the first model task starts, the
     * returned handle is closed, or {@link #WARM_UP_SECONDS} pass: a fresh JVM runs the Vector API
     * kernels in their per-lane fallback until C2 has compiled them, which cost the 20,000-text
     * job ~10 s of both cores (JFR); compiled while the driver plans, the tasks start at full
     * speed. While the model loads, a second thread ({@link #KERNEL_WARM_UP_THREAD}) runs the
     * kernels on small random operands ({@link KernelWarmUp}), which needs no model: in the 20,000-text
     * job the attention kernels then reached C2 at 6-7.6 s of the JVM instead of 8.7-12 s, the first
     * model tasks start at ~7 s. A failed load is not cached, so the first task meets the failure again and reports
     * it. While one preload of these options runs, another call returns a handle that does nothing.
     */
    public Preload preloadInBackground() {
        if (!PRELOADING.add(options)) {
            return new Preload();
        }
        long tasksBefore = MODEL_TASKS.get();
        Preload preload = new Preload();
        AtomicBoolean loaded = new AtomicBoolean();
        BooleanSupplier taskStartedOrClosed = () -> preload.closed || MODEL_TASKS.get() != tasksBefore;
        long warmUpNanos = (long) (WARM_UP_SECONDS * 1e9);
        // the kernels need no model: they start compiling while it loads (KernelWarmUp)
        Thread kernels = new Thread(
                () -> {
                    try {
                        KernelWarmUp.run(() -> loaded.get() || taskStartedOrClosed.getAsBoolean(), warmUpNanos);
                    } catch (RuntimeException | Error e) {
                        // only a head start: the tasks run the same kernels and report what fails
                    }
                },
                KERNEL_WARM_UP_THREAD);
        kernels.setDaemon(true);
        kernels.start();
        Thread loader = new Thread(
                () -> {
                    try {
                        Function<List<String>, List<R>> model;
                        try {
                            model = model();
                        } finally {
                            loaded.set(true);
                        }
                        long deadline = System.nanoTime() + warmUpNanos;
                        List<String> texts = warmUpTexts();
                        // one core: Spark's start-up and the driver's planning use the other
                        try (var threads = Parallel.scope(1)) {
                            while (!taskStartedOrClosed.getAsBoolean() && System.nanoTime() < deadline) {
                                model.apply(texts);
                            }
                        }
                    } catch (RuntimeException | Error e) {
                        // the first task loads again and fails the job with this error
                    } finally {
                        PRELOADING.remove(options);
                    }
                },
                PRELOAD_THREAD);
        loader.setDaemon(true);
        loader.start();
        return preload;
    }

    /** A background preload: closing it ends its warm-up (a load under way still completes and stays cached). */
    public static final class Preload implements AutoCloseable {
        private volatile boolean closed;

        @Override
        public void close() {
            closed = true;
        }
    }

    /** The name of the preload's thread (its warm-up calls come from it). */
    public static final String PRELOAD_THREAD = "attnspark-model-preload";

    /** The name of the thread that warms the kernels up while the preload loads the model. */
    public static final String KERNEL_WARM_UP_THREAD = "attnspark-kernel-warm-up";

    /**
     * The longest the preload thread warms the kernels up once the model is loaded. MiniLM's
     * calls on the warm-up texts settle at full speed within ~2 s of a fresh JVM (the first call
     * takes ~3 s, the next ones ~0.05-0.15 s); past that the thread would only slow the driver.
     */
    static final double WARM_UP_SECONDS = 6;

    /** Model tasks started in this JVM: the preload's warm-up stops when it moves. */
    private static final AtomicLong MODEL_TASKS = new AtomicLong();

    /** Options whose preload thread is running. */
    private static final Set<ModelOptions> PRELOADING = ConcurrentHashMap.newKeySet();

    /**
     * Texts of 3 to 120 words in a few short calls: varied lengths reach every kernel path
     * (tail rows, partial panels, short and longer attention) so C2 compiles them all.
     */
    static List<String> warmUpTexts() {
        String[] words = ("the model reads a short sentence about rivers and long documents of data engineers"
                        + " write nightly jobs")
                .split(" ");
        List<String> texts = new ArrayList<>();
        int w = 0;
        for (int len : new int[] {3, 7, 12, 18, 25, 33, 41, 50, 64, 120}) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < len; i++, w++) {
                sb.append(i == 0 ? "" : " ").append(words[(w * 7) % words.length]);
            }
            texts.add(sb.append('.').toString());
        }
        return texts;
    }

    protected abstract Row errorRow(String id, String error);

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        MODEL_TASKS.incrementAndGet();
        TaskContext tc = TaskContext.get();
        int partition = tc == null ? 0 : tc.partitionId();
        GpuBinding.bindCurrentTask();
        int cpus = TaskThreads.cpus();
        IntSupplier threads = idleCores ? TaskThreads.withIdleCores() : () -> cpus;
        long[] seen = {0};
        return new ChunkingIterator<>(rows, chunkRows, chunk -> {
            try (var scope = Parallel.scope(threads, cpus)) {
                return processChunk(chunk, partition, seen);
            }
        });
    }

    /** Visible for tests: one chunk of input rows to output rows. */
    public List<Row> processChunk(List<Row> chunk, int partition, long[] seen) {
        int n = chunk.size();
        String[] ids = new String[n];
        String[] errors = new String[n];
        List<String> texts = new ArrayList<>(n);
        List<Integer> textRows = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Row row = chunk.get(i);
            long rowNumber = ++seen[0];
            String id = stringAt(row, 0);
            String text = stringAt(row, 1);
            String corrupt = stringAt(row, 2);
            ids[i] = id;
            String where = "input partition " + partition + ", row " + rowNumber;
            if (corrupt != null) {
                errors[i] = (id == null || id.isEmpty() ? where : "row " + id + " (" + where + ")")
                        + ": malformed input record: " + BatchedCalls.truncate(corrupt, 200);
            } else if (id == null || id.isEmpty()) {
                ids[i] = null;
                errors[i] = where + ": column '" + idName + "' is " + (id == null ? "null" : "empty")
                        + (text == null
                                ? " and column '" + textName + "' is null"
                                : "; text starts: \"" + BatchedCalls.truncate(text, PREVIEW_CHARS) + "\"");
            } else if (text == null) {
                errors[i] = "row " + id + ": column '" + textName + "' is null";
            } else {
                // empty text is not an error: it embeds as HF does ([CLS] [SEP]) and scores 0 tokens
                texts.add(text);
                textRows.add(i);
            }
        }
        List<Outcome<R>> outcomes = texts.isEmpty() ? List.of() : BatchedCalls.run(texts, model());
        Object[] results = new Object[n];
        for (int k = 0; k < outcomes.size(); k++) {
            int i = textRows.get(k);
            Outcome<R> o = outcomes.get(k);
            if (o.isOk()) {
                results[i] = o.value();
            } else {
                errors[i] = "row " + ids[i] + ": " + o.error();
            }
        }
        if (counters != null) {
            count(results, errors);
        }
        List<Row> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Row row;
            if (errors[i] != null) {
                row = errorRow(ids[i], errors[i]);
            } else {
                @SuppressWarnings("unchecked")
                R r = (R) results[i];
                row = okRow(ids[i], r);
            }
            out.add(withCarried(row, chunk.get(i)));
        }
        return out;
    }

    /** The output row of one input row (as {@link #processChunk} makes them: columns of {@link #outputSchema()}). */
    public Row processOne(String id, String text) {
        return processChunk(List.of(RowFactory.create(id, text, null)), 0, new long[] {0})
                .get(0);
    }

    /** The rows this function writes, before any carried columns. */
    public abstract StructType outputSchema();

    /** {@code row} followed by the input's columns after the normalised three (kept columns), error rows included. */
    private static Row withCarried(Row row, Row input) {
        int carried = input.size() - NORMALISED_COLUMNS;
        if (carried <= 0) {
            return row;
        }
        Object[] values = new Object[row.size() + carried];
        for (int c = 0; c < row.size(); c++) {
            values[c] = row.get(c);
        }
        for (int c = 0; c < carried; c++) {
            values[row.size() + c] = input.get(NORMALISED_COLUMNS + c);
        }
        return RowFactory.create(values);
    }

    /** Adds this chunk to the job's counters; padded tokens as the model's planner batched the chunk's texts. */
    private void count(Object[] results, String[] errors) {
        long errorRows = 0, tokens = 0;
        List<Integer> lengths = new ArrayList<>();
        for (int i = 0; i < results.length; i++) {
            if (errors[i] != null) {
                errorRows++;
            } else if (results[i] != null) {
                @SuppressWarnings("unchecked")
                R r = (R) results[i];
                tokens += tokens(r);
                lengths.add(batchedLength(r));
            }
        }
        int[] len = lengths.stream().mapToInt(Integer::intValue).toArray();
        long padded = 0;
        for (int[] batch : TokenBudgetBatches.plan(len, options.batchTokens())) {
            int longest = 0;
            for (int i : batch) {
                longest = Math.max(longest, len[i]);
            }
            padded += (long) batch.length * longest;
        }
        counters.add(results.length, errorRows, tokens, padded);
        counters.reportModelLoad(loadSeconds());
    }

    private static String stringAt(Row row, int i) {
        if (row.size() <= i || row.isNullAt(i)) {
            return null;
        }
        Object v = row.get(i);
        return v instanceof String s ? s : String.valueOf(v);
    }
}
