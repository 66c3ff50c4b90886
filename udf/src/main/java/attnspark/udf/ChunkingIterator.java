package attnspark.udf;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Function;

/**
 * Pulls up to {@code chunkSize} inputs, maps the chunk at once, and hands the outputs out one
 * by one, so a partition streams through in bounded memory. The mapper must answer one output
 * per input.
 */
public final class ChunkingIterator<I, O> implements Iterator<O> {
    private final Iterator<I> input;
    private final int chunkSize;
    private final Function<List<I>, List<O>> mapper;
    private final Deque<O> ready = new ArrayDeque<>();

    public ChunkingIterator(Iterator<I> input, int chunkSize, Function<List<I>, List<O>> mapper) {
        if (chunkSize < 1) {
            throw new IllegalArgumentException("chunk size must be >= 1, got " + chunkSize);
        }
        this.input = input;
        this.chunkSize = chunkSize;
        this.mapper = mapper;
    }

    @Override
    public boolean hasNext() {
        while (ready.isEmpty() && input.hasNext()) {
            List<I> chunk = new ArrayList<>(chunkSize);
            while (chunk.size() < chunkSize && input.hasNext()) {
                chunk.add(input.next());
            }
            List<O> outs = mapper.apply(chunk);
            if (outs.size() != chunk.size()) {
                throw new IllegalStateException("chunk of " + chunk.size() + " rows gave " + outs.size() + " outputs");
            }
            ready.addAll(outs);
        }
        return !ready.isEmpty();
    }

    @Override
    public O next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        return ready.removeFirst();
    }
}
