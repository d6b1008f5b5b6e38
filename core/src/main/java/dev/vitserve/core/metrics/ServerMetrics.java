package dev.vitserve.core.metrics;

import dev.vitserve.core.inference.InferenceObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.micrometer.backends.BackendRegistries;
import java.time.Duration;
import java.util.Collection;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntSupplier;
import java.util.stream.Stream;

/**
 * vitserve's Prometheus metrics: Vert.x's own HTTP server metrics (requests by route, method and
 * status, latency histograms) plus decode, preprocess and inference times, batch sizes,
 * queue depth, rejections and the model's load time, all in one registry scraped at {@code /metrics}.
 */
public final class ServerMetrics implements InferenceObserver {

    /** The request methods counted by name; any other is {@code other}. */
    static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT");

    /** The route names counted by name, as the HTTP verticle declares them ({@link #countRoutes}); any other is {@code other}. */
    private static final Set<String> ROUTES = ConcurrentHashMap.newKeySet();

    private static final Duration[] SLOS = {Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10),
        Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(200),
        Duration.ofMillis(300), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2),
        Duration.ofSeconds(5)};

    private final PrometheusMeterRegistry registry;
    private final Timer decode;
    private final Timer preprocess;
    private final Timer inference;
    private final Timer queueWait;
    private final DistributionSummary batchSize;
    private final Counter refused;
    private final AtomicReference<Double> modelLoadSeconds = new AtomicReference<>(Double.NaN);

    public ServerMetrics(PrometheusMeterRegistry registry) {
        this.registry = registry;
        this.decode = timer("vitserve.decode", "Time to decode one image to RGB pixels");
        this.preprocess = timer("vitserve.preprocess", "Time to resize, rescale and normalize one image");
        this.inference = timer("vitserve.inference", "Time the engine takes for one batch");
        this.queueWait = timer("vitserve.queue.wait", "Time an image waits for the engine");
        this.batchSize = DistributionSummary.builder("vitserve.batch.size")
                .description("Images per engine run").serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64)
                .register(registry);
        this.refused = Counter.builder("vitserve.rejected").description("Images refused because the queue was full")
                .tag("reason", "queue_full").register(registry);
        Gauge.builder("vitserve.model.load", modelLoadSeconds, seconds -> seconds.get()).baseUnit("seconds")
                .description("Time it took to load the model (download excluded), NaN until loaded")
                .register(registry);
    }

    /**
     * A {@code Vertx} that reports HTTP metrics into a new Prometheus registry, with the series a
     * request can create bounded ({@link #boundedSeries}); {@link #of} finds that registry again.
     */
    public static Vertx newVertx() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        boundedSeries(registry);
        return Vertx.builder().with(vertxOptions()).withMetrics(new MicrometerMetricsFactory(registry)).build();
    }

    private static VertxOptions vertxOptions() {
        return new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions()
                .setEnabled(true)
                .setJvmMetricsEnabled(true)
                // the clients (image URLs, the Hub) would each register the same gauges again, with a warning
                // at every start, for figures about other servers
                .addDisabledMetricsCategory(MetricsDomain.HTTP_CLIENT)
                .setLabels(EnumSet.of(Label.HTTP_ROUTE, Label.HTTP_METHOD, Label.HTTP_CODE, Label.POOL_TYPE, Label.POOL_NAME))
                .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true)));
    }

    /**
     * Keeps the number of series independent of what clients send: a method outside HTTP's
     * standard ones is counted as {@code other} (a request line may carry any token there), a
     * route not declared by {@link #countRoutes} as {@code other}; the per-request byte-size histograms are
     * dropped (bytes read and written are counted per connection anyway), and the HTTP latency
     * histograms get the same dozen buckets as vitserve's own instead of Micrometer's 276.
     */
    static void boundedSeries(MeterRegistry registry) {
        registry.config()
                .meterFilter(MeterFilter.replaceTagValues("method", m -> METHODS.contains(m) ? m : "other"))
                .meterFilter(MeterFilter.replaceTagValues("route", r -> r.isEmpty() || ROUTES.contains(r) ? r : "other"))
                .meterFilter(MeterFilter.deny(id -> id.getName().startsWith("vertx.http.")
                        && (id.getName().endsWith(".request.bytes") || id.getName().endsWith(".response.bytes"))))
                .meterFilter(new MeterFilter() {
                    @Override
                    public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
                        if (!id.getName().startsWith("vertx.http.") || id.getType() != Meter.Type.TIMER) {
                            return config;
                        }
                        return DistributionStatisticConfig.builder().percentilesHistogram(false)
                                .serviceLevelObjectives(Stream.of(SLOS).mapToDouble(Duration::toNanos).toArray())
                                .build().merge(config);
                    }
                });
    }

    /**
     * The metrics of this process: in the registry Vert.x reports to when it was created with
     * {@link #vertxOptions()}, else in a registry of their own (without Vert.x's HTTP metrics).
     */
    public static ServerMetrics of() {
        MeterRegistry vertxRegistry = BackendRegistries.getDefaultNow();
        return new ServerMetrics(vertxRegistry instanceof PrometheusMeterRegistry prometheus
                ? prometheus : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }

    /** Declares the names of a router's routes, the only values the {@code route} label takes besides {@code other}. */
    public static void countRoutes(Collection<String> names) {
        ROUTES.addAll(names);
    }

    private Timer timer(String name, String description) {
        return Timer.builder(name).description(description).serviceLevelObjectives(SLOS)
                .distributionStatisticExpiry(Duration.ofMinutes(2)).register(registry);
    }

    public PrometheusMeterRegistry registry() {
        return registry;
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

    /** Reports the queue's depth whenever metrics are scraped. */
    public void queueDepth(IntSupplier depth) {
        Gauge.builder("vitserve.queue.depth", depth::getAsInt).description("Images waiting for the engine")
                .register(registry);
    }

    @Override
    public void refused() {
        refused.increment();
    }

    public void modelLoaded(double seconds) {
        modelLoadSeconds.set(seconds);
    }
}
