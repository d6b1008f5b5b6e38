package dev.vitserve.core.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.api.Backend;
import dev.vitserve.api.Device;
import dev.vitserve.api.Logits;
import dev.vitserve.api.PixelBatch;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class InferenceSchedulerTest {

    static final InferenceScheduler.TensorShape SHAPE = new InferenceScheduler.TensorShape(1, 2, 2);

    /** Logit 0 is the first pixel of the image, logit 1 the batch size; it can be held at a gate. Keeps every batch's pixels. */
    static final class RecordingBackend implements Backend {
        final List<Integer> batchSizes = new CopyOnWriteArrayList<>();
        final List<float[]> batches = new CopyOnWriteArrayList<>();
        final CountDownLatch gate;

        RecordingBackend(CountDownLatch gate) {
            this.gate = gate;
        }

        @Override
        public Logits infer(PixelBatch batch) {
            try {
                gate.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            batchSizes.add(batch.batchSize());
            float[] pixels = new float[batch.pixels().remaining()];
            batch.pixels().duplicate().get(pixels);
            batches.add(pixels);
            float[] out = new float[batch.batchSize() * 2];
            for (int n = 0; n < batch.batchSize(); n++) {
                out[2 * n] = batch.pixels().get(batch.pixels().position() + n * 4);
                out[2 * n + 1] = batch.batchSize();
            }
            return new Logits(out, batch.batchSize(), 2);
        }

        @Override
        public Device device() {
            return Device.cpu("test");
        }

        @Override
        public Path weightsFile() {
            return Path.of("none");
        }

        @Override
        public String engine() {
            return "test";
        }

        @Override
        public void close() {
        }
    }

    static float[] image(float first) {
        return new float[] {first, 0, 0, 0};
    }

    @Test
    void imagesQueuedTogetherRunAsOneBatchAndKeepTheirOwnAnswers() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        RecordingBackend backend = new RecordingBackend(gate);
        try (InferenceScheduler scheduler = new InferenceScheduler(backend, SHAPE, 4, 0, 16)) {
            List<CompletableFuture<InferenceResult>> results = new ArrayList<>();
            results.add(scheduler.submit(image(0)));
            Thread.sleep(200); // the first image is now held inside the engine
            for (int i = 1; i <= 5; i++) {
                results.add(scheduler.submit(image(i)));
            }
            gate.countDown();
            for (int i = 0; i <= 5; i++) {
                InferenceResult result = results.get(i).get(10, TimeUnit.SECONDS);
                assertEquals(i, result.logits()[0], "each image gets its own row");
                assertEquals(result.batchSize(), result.logits()[1]);
            }
            assertEquals(List.of(1, 4, 1), backend.batchSizes);
        }
    }

    @Test
    void batchDelayWaitsForMoreImages() throws Exception {
        RecordingBackend backend = new RecordingBackend(new CountDownLatch(0));
        try (InferenceScheduler scheduler = new InferenceScheduler(backend, SHAPE, 3, 2000, 16)) {
            List<CompletableFuture<InferenceResult>> results = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                results.add(scheduler.submit(image(i)));
                Thread.sleep(50);
            }
            for (CompletableFuture<InferenceResult> result : results) {
                assertEquals(3, result.get(10, TimeUnit.SECONDS).batchSize());
            }
            assertEquals(List.of(3), backend.batchSizes);
        }
    }

    @Test
    void aFullQueueRefusesAtOnce() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        RecordingBackend backend = new RecordingBackend(gate);
        try (InferenceScheduler scheduler = new InferenceScheduler(backend, SHAPE, 1, 0, 2)) {
            CompletableFuture<InferenceResult> running = scheduler.submit(image(1));
            Thread.sleep(200);
            scheduler.submit(image(2));
            scheduler.submit(image(3));
            QueueFullException full = assertThrows(QueueFullException.class, () -> scheduler.submit(image(4)));
            assertTrue(full.getMessage().contains("2 places"), full.getMessage());
            assertEquals(2, scheduler.queueDepth());
            gate.countDown();
            assertArrayEquals(new float[] {1, 1}, running.get(10, TimeUnit.SECONDS).logits());
        }
    }

    @Test
    void closingLetsQueuedImagesFinishAndRefusesNewOnes() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        RecordingBackend backend = new RecordingBackend(gate);
        InferenceScheduler scheduler = new InferenceScheduler(backend, SHAPE, 1, 0, 8);
        List<CompletableFuture<InferenceResult>> results = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            results.add(scheduler.submit(image(i)));
        }
        Thread closer = new Thread(scheduler::close);
        closer.start();
        Thread.sleep(100);
        assertThrows(QueueFullException.class, () -> scheduler.submit(image(9)));
        gate.countDown();
        closer.join(10_000);
        for (int i = 0; i < 3; i++) {
            assertEquals(i, results.get(i).get(1, TimeUnit.SECONDS).logits()[0]);
        }
    }

    @Test
    void anImageThatWaitedTooLongIsRefusedInsteadOfRun() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        RecordingBackend backend = new RecordingBackend(gate);
        try (InferenceScheduler scheduler = new InferenceScheduler(backend, SHAPE, 1, 0, 8,
                java.time.Duration.ofMillis(100), InferenceObserver.NONE)) {
            CompletableFuture<InferenceResult> running = scheduler.submit(image(1));
            Thread.sleep(50);
            CompletableFuture<InferenceResult> waiting = scheduler.submit(image(2));
            Thread.sleep(300);
            gate.countDown();
            assertEquals(1, running.get(10, TimeUnit.SECONDS).logits()[0]);
            java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> waiting.get(10, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof QueueFullException, e.getCause().toString());
            assertTrue(e.getCause().getMessage().contains("longer than the 100 ms allowed"), e.getCause().getMessage());
            assertEquals(List.of(1), backend.batchSizes, "the late image never reached the engine");
        }
    }
}
