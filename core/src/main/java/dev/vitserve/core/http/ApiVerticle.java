package dev.vitserve.core.http;

import dev.vitserve.core.ServerState;
import dev.vitserve.core.config.ServerConfig;
import dev.vitserve.core.config.VersionProvider;
import dev.vitserve.core.memory.MemoryBudget;
import dev.vitserve.core.metrics.ServerMetrics;
import dev.vitserve.core.protocol.ModelLookup;
import dev.vitserve.core.protocol.hf.HuggingFaceEndpoints;
import dev.vitserve.core.protocol.oip.GrpcRepositoryCalls;
import dev.vitserve.core.protocol.oip.OipGrpcService;
import dev.vitserve.core.protocol.oip.OipInference;
import dev.vitserve.core.protocol.oip.OipModelRepository;
import dev.vitserve.core.protocol.oip.OipRestEndpoints;
import dev.vitserve.core.protocol.oip.TritonStatistics;
import dev.vitserve.core.protocol.rest.RestDoor;
import dev.vitserve.core.registry.ModelService;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.CorsHandler;
import io.vertx.ext.web.handler.StaticHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.concurrent.TimeUnit;

/**
 * The API listener: builds the transport (limits, the API key, body reading) and asks each protocol's
 * {@link Door} (vitserve's REST API, Hugging Face's, the OIP's) to mount its routes, then serves the
 * OpenAPI description, the metrics and the web page; and the OIP's gRPC listener. It is the one place of
 * {@code http} that knows the doors of {@code protocol}. Handlers only parse and route: decoding,
 * preprocessing and inference happen on worker threads.
 */
public final class ApiVerticle extends VerticleBase {

    /** Where web-ui's files are on the classpath. */
    static final String WEBROOT = "vitserve/webroot";
    /** How long HTTP/2 streams in flight may run on a connection told to go away at shutdown. */
    private static final Duration SHUTDOWN_STREAMS_TIMEOUT = Duration.ofSeconds(60);
    static final String PAGE_POLICY = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
            + "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
            + "form-action 'self'";

    /** Everything but the API's own paths is the web page, so a wrong method on an API path is a 405. */
    static final String PAGE_PATHS = "^/(?!v1/|v2(?:/|$)|models/|health/|predict_image_class|openapi\\.json|metrics).*";

    /** The protocol paths whose 404 and 405 answers are {"error": "..."} as their clients expect. */
    static final Pattern PLAIN_ERROR_PATHS = Pattern.compile("^/(v2(/.*)?|models/.*)$");

    private final ServerConfig config;
    private final ServerState state;
    private final ModelService service;
    private final PrometheusMeterRegistry metrics;
    private final ListenerTransport transport;
    private UrlFetcher fetcher;
    private HttpServer server;
    private HttpServer grpcServer;
    private OipGrpcService grpc;
    private RequestLimiter limiter;
    private Router router;
    private ReceivingLimiter receiving;
    private final MemoryBudget budget;

    /**
     * The API listener (and the gRPC one, with {@code --grpc-port}), built through the server's
     * {@code transport}; {@code service} manages models over gRPC's repository calls.
     */
    public ApiVerticle(ServerConfig config, ServerState state, ModelService service, PrometheusMeterRegistry metrics,
                       ListenerTransport transport) {
        this(config, state, service, metrics, transport, new MemoryBudget(config.memoryBudget()));
    }

    /** The same, every request's bodies, fetched images, pixels and tensors admitted against {@code budget}. */
    public ApiVerticle(ServerConfig config, ServerState state, ModelService service, PrometheusMeterRegistry metrics,
                       ListenerTransport transport, MemoryBudget budget) {
        this.budget = budget;
        this.service = service;
        this.metrics = metrics;
        this.transport = transport;
        this.config = config;
        this.state = state;
    }

    @Override
    public Future<?> start() {
        fetcher = new UrlFetcher(vertx, new UrlFetcher.Settings(config.urlFetchEnabled(), config.allowPrivateUrls(),
                config.urlAllow(), config.urlConnectTimeout(), config.urlTimeout(), config.maxBodySize(),
                config.maxUrlFetches()), budget);
        ImageRequestReader reader = new ImageRequestReader(fetcher, config.maxFiles(), config.maxBodySize());
        HttpServerOptions options = new HttpServerOptions()
                // HTTP/1.1 only in clear text: answers to an h2c upgrade request (the JDK HttpClient's default) arrive
                // garbled in clients about one time in seven when large, so the upgrade is declined; HTTP/2 is on TLS
                .setHttp2ClearTextEnabled(false)
                // answers gzip- or deflate-compressed when the request's Accept-Encoding asks
                .setCompressionSupported(true)
                .setMaxFormFields(config.maxFiles() + 16)
                .setMaxFormAttributeSize(8192);
        router = router(reader);
        Future<HttpServer> listening = transport.listen("API", options, config.host(), config.port(), router)
                .onSuccess(api -> server = api);
        if (config.grpcPort().isEmpty()) {
            return listening;
        }
        // gRPC needs HTTP/2: with TLS through ALPN, else in clear text with prior knowledge, as gRPC clients connect
        HttpServerOptions grpcOptions = new HttpServerOptions();
        // built on a worker: the first use of the protobuf and gRPC classes takes seconds on a busy machine
        return listening.compose(api -> vertx.executeBlocking(() -> grpc.handler(vertx)))
                .compose(handler -> transport.listen("gRPC", grpcOptions, config.host(), config.grpcPort().get(),
                        handler))
                .onSuccess(listeningGrpc -> grpcServer = listeningGrpc);
    }

    private Router router(ImageRequestReader reader) {
        Router router = transport.router();
        BodyReader body = new BodyReader(config.maxBodySize(), config.maxFiles());
        ModelLookup models = new ModelLookup(state);
        OipInference oipInference = new OipInference(config.maxFiles(), config.maxRequestPixels());
        TritonStatistics statistics = new TritonStatistics(metrics);
        List<Door> doors = List.of(new RestDoor(state, config, models, reader), new HuggingFaceEndpoints(models, reader),
                new OipRestEndpoints(models, oipInference, VersionProvider.version(), statistics));
        Buffer openApi = classpathFile("vitserve/openapi.json");

        limiter = new RequestLimiter(config.maxRequests(), config.maxBodySize(), state);
        receiving = new ReceivingLimiter(vertx, state, config.maxReceiving(), config.maxReceivingSize(),
                config.maxBodySize(), config.maxReceivingPerClient(), config.bodyTimeout(), budget);
        Gauge.builder("vitserve.requests.in.progress", limiter::inProgress)
                .description("Classify requests admitted and not yet answered").register(metrics);
        Gauge.builder("vitserve.memory.budget.used", budget, MemoryBudget::used).baseUnit("bytes")
                .description("Bytes of the memory budget held by requests: bodies, fetched images, pixels, tensors")
                .register(metrics);
        Gauge.builder("vitserve.memory.budget", budget, MemoryBudget::total).baseUnit("bytes")
                .description("The memory budget (--memory-budget)").register(metrics);
        ApiKeyCheck apiKey = config.apiKey().map(key -> new ApiKeyCheck(key, config.maxBodySize())).orElse(null);
        ApiKeyCheck adminKey = config.adminApiKey().map(key -> new ApiKeyCheck(key, config.maxBodySize())).orElse(null);
        grpc = new OipGrpcService(models, oipInference, statistics, VersionProvider.version(), limiter, receiving,
                config.maxBodySize(), apiKey,
                new GrpcRepositoryCalls(new OipModelRepository(vertx, config, service, models), adminKey));
        router.route().handler(this::commonHeaders);
        if (!config.corsOrigins().isEmpty()) {
            router.route().handler(CorsHandler.create().addOrigins(config.corsOrigins())
                    .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST))
                    .allowedHeaders(Set.of("Content-Type", "Authorization")).maxAgeSeconds(600));
        }
        DoorRoutes routes = new DoorRoutes(apiKey, limiter, receiving, body, config.maxBodySize());
        doors.forEach(door -> door.mount(router, routes));
        router.get("/metrics").handler(PrometheusScrapingHandler.create(metrics));
        router.get("/openapi.json").handler(ctx -> ctx.response()
                .putHeader("Content-Type", "application/json").end(openApi));
        router.routeWithRegex(PAGE_PATHS).setName("page").method(HttpMethod.GET).method(HttpMethod.HEAD)
                .handler(ApiVerticle::pageHeaders).handler(StaticHandler.create(WEBROOT));
        ErrorResponses.install(router, PLAIN_ERROR_PATHS);
        ServerMetrics.countRoutes(router.getRoutes().stream().map(Route::getName).filter(Objects::nonNull).toList());
        return router;
    }

    private void commonHeaders(RoutingContext ctx) {
        ctx.response().putHeader("X-Content-Type-Options", "nosniff").putHeader("Referrer-Policy", "no-referrer");
        ctx.addHeadersEndHandler(v -> {
            if (state.stopping()) {
                closeAfterAnswer(ctx);
            }
        });
        ctx.next();
    }

    /**
     * Once shutdown has begun, every answer ends its connection, so that clients holding a
     * keep-alive connection open a new one, which a balancer sends to another replica:
     * {@code Connection: close} on HTTP/1.x, a GOAWAY on HTTP/2 (streams in flight still finish).
     */
    private static void closeAfterAnswer(RoutingContext ctx) {
        if (ctx.request().version() == HttpVersion.HTTP_2) {
            ctx.request().connection().shutdown(SHUTDOWN_STREAMS_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } else {
            ctx.response().putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
        }
    }

    /**
     * The page's security headers, and {@code no-cache}: browsers revalidate every file with the
     * {@code Last-Modified} date the static handler sends (a 304 when unchanged), so a new version
     * is seen at once. The static handler keeps a {@code Cache-Control} already set.
     */
    private static void pageHeaders(RoutingContext ctx) {
        ctx.response().putHeader("Content-Security-Policy", PAGE_POLICY).putHeader("X-Frame-Options", "DENY")
                .putHeader("Cache-Control", "no-cache");
        ctx.next();
    }

    /** A file of the classpath, read whole (documents served as they are). */
    static Buffer classpathFile(String name) {
        try (InputStream in = ApiVerticle.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is missing from the classpath");
            }
            return Buffer.buffer(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The router's routes, in order (what {@code /openapi.json} must describe). */
    List<Route> routes() {
        return router.getRoutes();
    }

    /** Classify requests admitted and not yet answered, those still sending their body, and those fetching a URL. */
    public int requestsInProgress() {
        return limiter.inProgress() + receiving.receiving() + fetcher.inProgress();
    }

    /** The gRPC service's port actually bound, or -1 when it is off. */
    public int actualGrpcPort() {
        return grpcServer != null ? grpcServer.actualPort() : -1;
    }

    /** The port actually bound (useful with {@code --port 0}). */
    public int actualPort() {
        return server.actualPort();
    }

    @Override
    public Future<?> stop() {
        transport.closed(server);
        transport.closed(grpcServer);
        return fetcher.close();
    }
}
