package dev.vitserve.core.inference;

import dev.vitserve.api.Backend;
import dev.vitserve.api.Logits;
import dev.vitserve.api.PixelBatch;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands preprocessed images to the backend on a thread of its own, never an event loop:
 * a bounded queue, drained into batches of up to {@code maxBatch} images, waiting at most
 * {@code maxBatchDelayMs} for a batch to fill.
 */
public final class InferenceScheduler implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(InferenceScheduler.class);

    /** The shape of one image's tensor, CHW. */
    public record TensorShape(int channels, int height, int width) {
        public int length() {
            return channels * height * width;
        }
    }

    private record Job(float[] pixels, long enqueuedNanos, CompletableFuture<InferenceResult> result) {
    }

    private final Backend backend;
    private final TensorShape shape;
    private final int maxBatch;
    private final long maxBatchDelayNanos;
    private final BlockingQueue<Job> queue;
    private final FloatBuffer batchBuffer;
    private final Thread worker;
    private final long maxWaitNanos;
    private final InferenceObserver observer;
    private volatile boolean accepting = true;

    public InferenceScheduler(Backend backend, TensorShape shape, int maxBatch, int maxBatchDelayMs, int maxQueue) {
        this(backend, shape, maxBatch, maxBatchDelayMs, maxQueue, Duration.ofMinutes(10), InferenceObserver.NONE);
    }

    /**
     * @param maxWait how long an image may wait for the engine; past it, it fails with {@link QueueFullException}
     */
    public InferenceScheduler(Backend backend, TensorShape shape, int maxBatch, int maxBatchDelayMs, int maxQueue,
                              Duration maxWait, InferenceObserver observer) {
        this.backend = backend;
        this.maxWaitNanos = maxWait.toNanos();
        this.observer = observer;
        this.shape = shape;
        this.maxBatch = maxBatch;
        this.maxBatchDelayNanos = TimeUnit.MILLISECONDS.toNanos(maxBatchDelayMs);
        this.queue = new ArrayBlockingQueue<>(maxQueue);
        this.batchBuffer = ByteBuffer.allocateDirect(Math.multiplyExact(maxBatch * Float.BYTES, shape.length()))
                .order(ByteOrder.nativeOrder()).asFloatBuffer();
        this.worker = new Thread(this::run, "vitserve-inference");
        this.worker.start();
    }

    /**
     * Queues one image's CHW tensor.
     *
     * @return completes on the inference thread with the logits, or with the engine's failure
     * @throws QueueFullException at once when the queue is full or the scheduler is closing
     */
    public CompletableFuture<InferenceResult> submit(float[] pixels) {
        if (pixels.length != shape.length()) {
            throw new IllegalArgumentException("tensor has " + pixels.length + " values, model takes " + shape.length());
        }
        if (!accepting) {
            throw new QueueFullException("the server is shutting down");
        }
        Job job = new Job(pixels, System.nanoTime(), new CompletableFuture<>());
        if (!queue.offer(job)) {
            observer.refused();
            observer.imageDone(false, 0);
            throw new QueueFullException("all " + (queue.size() + queue.remainingCapacity())
                    + " places in the inference queue are taken");
        }
        return job.result();
    }

    /** Images waiting for the engine now. */
    public int queueDepth() {
        return queue.size();
    }

    /** The shape of one image's tensor, CHW. */
    public TensorShape tensorShape() {
        return shape;
    }

    /** How long a batch may wait to fill, in microseconds. */
    public long maxBatchDelayMicros() {
        return TimeUnit.NANOSECONDS.toMicros(maxBatchDelayNanos);
    }

    /** How long an image may wait for the engine before it is refused, in microseconds. */
    public long maxWaitMicros() {
        return TimeUnit.NANOSECONDS.toMicros(maxWaitNanos);
    }

    /** The places of the queue. */
    public int maxQueue() {
        return queue.size() + queue.remainingCapacity();
    }

    /** Largest batch the engine is given. */
    public int maxBatch() {
        return maxBatch;
    }

    private void run() {
        List<Job> batch = new ArrayList<>(maxBatch);
        while (accepting || !queue.isEmpty()) {
            try {
                Job first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                long deadline = System.nanoTime() + maxBatchDelayNanos;
                while (batch.size() < maxBatch) {
                    long wait = deadline - System.nanoTime();
                    Job next = wait > 0 ? queue.poll(wait, TimeUnit.NANOSECONDS) : queue.poll();
                    if (next == null) {
                        break;
                    }
                    batch.add(next);
                }
                runBatch(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } finally {
                batch.clear();
            }
        }
        Job left;
        while ((left = queue.poll()) != null) {
            left.result().completeExceptionally(new QueueFullException("the server stopped before this image ran"));
        }
    }

    private void runBatch(List<Job> batch) {
        long now = System.nanoTime();
        batch.removeIf(job -> {
            if (!job.result().isDone() && now - job.enqueuedNanos() > maxWaitNanos) {
                observer.refused();
                observer.imageDone(false, now - job.enqueuedNanos());
                job.result().completeExceptionally(new QueueFullException("the image waited "
                        + (now - job.enqueuedNanos()) / 1_000_000 + " ms for the engine, longer than the "
                        + maxWaitNanos / 1_000_000 + " ms allowed"));
            }
            return job.result().isDone();
        });
        if (batch.isEmpty()) {
            return;
        }
        long start = System.nanoTime();
        batchBuffer.clear();
        for (Job job : batch) {
            batchBuffer.put(job.pixels());
        }
        batchBuffer.flip();
        try {
            Logits logits = backend.infer(new PixelBatch(batchBuffer, batch.size(),
                    shape.channels(), shape.height(), shape.width()));
            long end = System.nanoTime();
            observer.batchRan(batch.size(), end - start);
            double inferenceMs = (end - start) / 1e6;
            for (int i = 0; i < batch.size(); i++) {
                Job job = batch.get(i);
                observer.imageDone(true, end - job.enqueuedNanos());
                job.result().complete(new InferenceResult(logits.row(i), (start - job.enqueuedNanos()) / 1e6,
                        inferenceMs, batch.size(), logits.embedding(i)));
            }
        } catch (Exception | Error e) {
            LOG.error("inference failed for a batch of {}", batch.size(), e);
            long end = System.nanoTime();
            for (Job job : batch) {
                observer.imageDone(false, end - job.enqueuedNanos());
                job.result().completeExceptionally(e);
            }
        }
    }

    /** Stops taking images, lets the queued ones run, and waits for the inference thread. */
    @Override
    public void close() {
        accepting = false;
        try {
            worker.join(TimeUnit.SECONDS.toMillis(60));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
