package dev.vitserve.core.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
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
import java.util.function.IntSupplier;
import java.util.stream.Stream;

/**
 * vitserve's Prometheus metrics: Vert.x's own HTTP server metrics (requests by route, method and
 * status, latency histograms) plus, per model ({@link ModelMetrics}, labelled {@code model}), decode,
 * preprocess and inference times, batch sizes, queue depth, rejections and load time, and how many
 * models are loaded, all in one registry scraped at {@code /metrics}.
 */
public final class ServerMetrics {

    /** The request methods counted by name; any other is {@code other}. */
    static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT");

    /** The route names counted by name, as the HTTP verticle declares them ({@link #countRoutes}); any other is {@code other}. */
    private static final Set<String> ROUTES = ConcurrentHashMap.newKeySet();

    /** The buckets of every latency histogram. */
    static final Duration[] SLOS = {Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10),
        Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(200),
        Duration.ofMillis(300), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2),
        Duration.ofSeconds(5)};

    private final PrometheusMeterRegistry registry;

    public ServerMetrics(PrometheusMeterRegistry registry) {
        this.registry = registry;
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

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** The meters of one model, labelled with its name (a configured or loaded model's, never a request's). */
    public ModelMetrics forModel(String name) {
        return new ModelMetrics(registry, name);
    }

    /** Reports how many models are loaded whenever metrics are scraped. */
    public void modelsLoaded(IntSupplier count) {
        Gauge.builder("vitserve.models.loaded", count::getAsInt).description("Models loaded and answering")
                .register(registry);
    }
}
