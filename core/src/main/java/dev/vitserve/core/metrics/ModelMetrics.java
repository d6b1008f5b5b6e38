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
 * times, batch sizes, queue depth, refusals and load time. {@link #close} removes them when the
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
