package attnspark.udf;

import static org.junit.jupiter.api.Assertions.*;

import attnspark.api.ModelOptions;
import attnspark.api.TextEmbedder;
import attnspark.api.TextScorer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ModelReplicasTest {
    @AfterEach
    void reset() {
        ModelReplicas.setFactoryForTests(null);
    }

    @Test
    void oneReplicaPerOptionsLoadedOnceUnderConcurrency() throws Exception {
        FakeModels fake = new FakeModels();
        AtomicInteger loads = new AtomicInteger();
        ModelReplicas.setFactoryForTests(new ReplicaFactory() {
            @Override
            public TextEmbedder embedder(ModelOptions o) {
                loads.incrementAndGet();
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return fake.embedder(o);
            }

            @Override
            public TextScorer scorer(ModelOptions o) {
                return fake.scorer(o);
            }
        });
        ModelOptions a = ModelOptions.defaults();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<TextEmbedder>> fs = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            fs.add(pool.submit(() -> ModelReplicas.embedder(ModelOptions.defaults())));
        }
        TextEmbedder first = fs.get(0).get();
        for (Future<TextEmbedder> f : fs) {
            assertSame(first, f.get());
        }
        pool.shutdown();
        assertEquals(1, loads.get());
        assertNotSame(first, ModelReplicas.embedder(a.withMaxLength(32)));
        assertEquals(2, loads.get());
    }

    @Test
    void failedLoadIsRetried() {
        AtomicInteger calls = new AtomicInteger();
        FakeModels fake = new FakeModels();
        ModelReplicas.setFactoryForTests(new ReplicaFactory() {
            @Override
            public TextEmbedder embedder(ModelOptions o) {
                if (calls.incrementAndGet() == 1) {
                    throw new IllegalStateException("disk hiccup");
                }
                return fake.embedder(o);
            }

            @Override
            public TextScorer scorer(ModelOptions o) {
                return fake.scorer(o);
            }
        });
        assertThrows(IllegalStateException.class, () -> ModelReplicas.embedder(ModelOptions.defaults()));
        assertNotNull(ModelReplicas.embedder(ModelOptions.defaults()));
        assertEquals(2, calls.get());
    }
}
