package dev.vitserve.core.metrics;

import dev.vitserve.core.inference.InferenceObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntSupplier;

/**
 * One model's meters, each labelled {@code model="<name>"}: decode, preprocess, queue and inference
 * times, batch sizes, queue depth, refusals and load time, and for a zero-shot model the text embedding cache's hits,
 * misses and bytes and the text tower's run times. {@link #close} removes them when the
 * model is unloaded, so the label only ever takes the names of models the server holds.
 */
public final class ModelMetrics implements InferenceObserver, AutoCloseable {

    /** Time to decode one image. */
    public static final String DECODE = "vitserve.decode";
    /** Time to preprocess one image. */
    public static final String PREPROCESS = "vitserve.preprocess";
    /** Time of one engine run. */
    public static final String INFERENCE = "vitserve.inference";
    /** Time an image waits for the engine. */
    public static final String QUEUE_WAIT = "vitserve.queue.wait";
    /** Images per engine run. */
    public static final String BATCH_SIZE = "vitserve.batch.size";
    /** Engine runs and their time, by batch size (tag {@value #BATCH_SIZE_TAG}). */
    public static final String BATCH_RUNS = "vitserve.batch.runs";
    /** The tag of {@value #BATCH_RUNS}: the batch size, 1 to the model's max batch. */
    public static final String BATCH_SIZE_TAG = "batch_size";
    /** Images the engine's scheduler took, by outcome (tag {@value #OUTCOME_TAG}), from its queue to its answer. */
    public static final String IMAGES = "vitserve.images";
    /** The tag of {@value #IMAGES}: {@value #SUCCESS} or {@value #FAILURE}. */
    public static final String OUTCOME_TAG = "outcome";
    public static final String SUCCESS = "success";
    public static final String FAILURE = "failure";
    /** When the engine last ran, seconds since the epoch (NaN before). */
    public static final String LAST_INFERENCE = "vitserve.last.inference.timestamp";

    private final MeterRegistry registry;
    private final Tags tags;
    private final List<Meter> meters = new ArrayList<>();
    private final Timer decode;
    private final Timer preprocess;
    private final Timer inference;
    private final Timer queueWait;
    private final DistributionSummary batchSize;
    /** The per-batch-size timers, registered as each size first runs: at most the model's max batch of them. */
    private final java.util.concurrent.ConcurrentMap<Integer, Timer> batchRuns = new java.util.concurrent.ConcurrentHashMap<>();
    private final Timer imagesAnswered;
    private final Timer imagesFailed;
    private final java.util.concurrent.atomic.AtomicLong lastInferenceMillis = new java.util.concurrent.atomic.AtomicLong();
    private final Counter refused;
    private final Counter textCacheHits;
    private final Counter textCacheMisses;
    private final Timer textInference;
    private final java.util.concurrent.atomic.AtomicLong textCacheBytes = new java.util.concurrent.atomic.AtomicLong();
    private final AtomicReference<Double> loadSeconds = new AtomicReference<>(Double.NaN);

    ModelMetrics(MeterRegistry registry, String model) {
        this.registry = registry;
        this.tags = Tags.of("model", model);
        this.decode = timer(DECODE, "Time to decode one image to RGB pixels");
        this.preprocess = timer(PREPROCESS, "Time to resize, rescale and normalize one image");
        this.inference = timer(INFERENCE, "Time the engine takes for one batch");
        this.queueWait = timer(QUEUE_WAIT, "Time an image waits for the engine");
        this.imagesAnswered = images(SUCCESS);
        this.imagesFailed = images(FAILURE);
        add(Gauge.builder(LAST_INFERENCE, lastInferenceMillis, millis -> millis.get() == 0 ? Double.NaN
                : millis.get() / 1000.0).tags(tags).baseUnit("seconds")
                .description("When the engine last ran, seconds since the epoch; NaN before it first ran")
                .register(registry));
        this.batchSize = add(DistributionSummary.builder(BATCH_SIZE).tags(tags)
                .description("Images per engine run").serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64)
                .register(registry));
        this.refused = add(Counter.builder("vitserve.rejected").tags(tags)
                .description("Images refused because the queue was full").tag("reason", "queue_full")
                .register(registry));
        this.textCacheHits = add(Counter.builder("vitserve.text.cache.hits").tags(tags)
                .description("Texts of zero-shot and embed-text requests found in the text embedding cache")
                .register(registry));
        this.textCacheMisses = add(Counter.builder("vitserve.text.cache.misses").tags(tags)
                .description("Texts of zero-shot and embed-text requests not in the text embedding cache (run through"
                        + " the text tower)").register(registry));
        this.textInference = timer("vitserve.text.inference", "Time the text tower takes for one batch of texts");
        add(Gauge.builder("vitserve.text.cache.size", textCacheBytes, java.util.concurrent.atomic.AtomicLong::get)
                .tags(tags).baseUnit("bytes").description("Bytes the text embedding cache holds")
                .register(registry));
        add(Gauge.builder("vitserve.model.load", loadSeconds, seconds -> seconds.get()).tags(tags).baseUnit("seconds")
                .description("Time it took to load the model (download excluded), NaN until loaded")
                .register(registry));
    }

    private Timer timer(String name, String description) {
        return add(Timer.builder(name).tags(tags).description(description).serviceLevelObjectives(ServerMetrics.SLOS)
                .distributionStatisticExpiry(Duration.ofMinutes(2)).register(registry));
    }

    /** Images taken by the scheduler with that outcome; no histogram, the queue and engine timers have theirs. */
    private Timer images(String outcome) {
        return add(Timer.builder(IMAGES).tags(tags).tag(OUTCOME_TAG, outcome)
                .description("Images the engine's scheduler took or refused, by outcome, and their time from its queue "
                        + "to their answer").register(registry));
    }

    private Timer batchRuns(int size) {
        return batchRuns.computeIfAbsent(size, s -> add(Timer.builder(BATCH_RUNS).tags(tags)
                .tag(BATCH_SIZE_TAG, String.valueOf(s)).description("Engine runs and their time, by batch size")
                .register(registry)));
    }

    private synchronized <M extends Meter> M add(M meter) {
        meters.add(meter);
        return meter;
    }

    @Override
    public void imagePrepared(double decodeMs, double preprocessMs) {
        decode.record((long) (decodeMs * 1e6), TimeUnit.NANOSECONDS);
        preprocess.record((long) (preprocessMs * 1e6), TimeUnit.NANOSECONDS);
    }

    @Override
    public void batchRan(int size, long nanos) {
        batchSize.record(size);
        inference.record(nanos, TimeUnit.NANOSECONDS);
        batchRuns(size).record(nanos, TimeUnit.NANOSECONDS);
        lastInferenceMillis.set(System.currentTimeMillis());
    }

    @Override
    public void imageDone(boolean answered, long nanos) {
        (answered ? imagesAnswered : imagesFailed).record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void imageQueued(double queueMs) {
        queueWait.record((long) (queueMs * 1e6), TimeUnit.NANOSECONDS);
    }

    @Override
    public void textCacheLooked(int hits, int misses) {
        textCacheHits.increment(hits);
        textCacheMisses.increment(misses);
    }

    @Override
    public void textRan(int size, long nanos) {
        textInference.record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void textCacheBytes(long bytes) {
        textCacheBytes.set(bytes);
    }

    @Override
    public void refused() {
        refused.increment();
    }

    /** Reports the model's queue depth whenever metrics are scraped. */
    public void queueDepth(IntSupplier depth) {
        add(Gauge.builder("vitserve.queue.depth", depth::getAsInt).tags(tags).description("Images waiting for the engine")
                .register(registry));
    }

    public void loaded(double seconds) {
        loadSeconds.set(seconds);
    }

    /** Removes this model's meters from the registry. */
    @Override
    public synchronized void close() {
        meters.forEach(registry::remove);
        meters.clear();
    }
}
