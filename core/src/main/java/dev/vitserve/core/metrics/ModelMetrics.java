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

    private final MeterRegistry registry;
    private final Tags tags;
    private final List<Meter> meters = new ArrayList<>();
    private final Timer decode;
    private final Timer preprocess;
    private final Timer inference;
    private final Timer queueWait;
    private final DistributionSummary batchSize;
    private final Counter refused;
    private final Counter textCacheHits;
    private final Counter textCacheMisses;
    private final Timer textInference;
    private final java.util.concurrent.atomic.AtomicLong textCacheBytes = new java.util.concurrent.atomic.AtomicLong();
    private final AtomicReference<Double> loadSeconds = new AtomicReference<>(Double.NaN);

    ModelMetrics(MeterRegistry registry, String model) {
        this.registry = registry;
        this.tags = Tags.of("model", model);
        this.decode = timer("vitserve.decode", "Time to decode one image to RGB pixels");
        this.preprocess = timer("vitserve.preprocess", "Time to resize, rescale and normalize one image");
        this.inference = timer("vitserve.inference", "Time the engine takes for one batch");
        this.queueWait = timer("vitserve.queue.wait", "Time an image waits for the engine");
        this.batchSize = add(DistributionSummary.builder("vitserve.batch.size").tags(tags)
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

    private <M extends Meter> M add(M meter) {
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
    public void close() {
        meters.forEach(registry::remove);
        meters.clear();
    }
}
