package dev.vitserve.core;

import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.DeviceRequest;
import dev.vitserve.core.config.ServerConfig;
import dev.vitserve.core.http.ApiVerticle;
import dev.vitserve.core.http.ListenerTls;
import dev.vitserve.core.hub.ModelResolver;
import dev.vitserve.core.image.ImageDecodeException;
import dev.vitserve.core.image.ImageDecoder;
import dev.vitserve.core.image.Preprocessor;
import dev.vitserve.core.inference.ClassificationPipeline;
import dev.vitserve.core.inference.InferenceScheduler;
import dev.vitserve.core.inference.Postprocessor;
import dev.vitserve.core.inference.PreprocessPriority;
import dev.vitserve.core.inference.WarmUp;
import dev.vitserve.core.metrics.ServerMetrics;
import dev.vitserve.core.model.BackendRegistry;
import dev.vitserve.core.model.LoadedModel;
import dev.vitserve.core.model.ModelLoadException;
import dev.vitserve.core.model.ModelLoader;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running vitserve: the HTTP verticle listening at once (ready turns true when the model is
 * loaded), the model loaded on a thread of its own, the backend, the scheduler and the
 * preprocessing workers; and their orderly shutdown.
 */
public final class VitServer {

    private static final Logger LOG = LoggerFactory.getLogger(VitServer.class);
    /** How often the TLS files are checked for a new certificate. */
    private static final Duration TLS_WATCH_PERIOD = Duration.ofSeconds(5);

    private final Vertx vertx;
    private final ServerConfig config;
    private final ServerState state = new ServerState();
    private final ServerMetrics metrics = ServerMetrics.of();
    private ApiVerticle api;
    private ListenerTls tls;
    private long tlsWatch = -1;
    private String deploymentId;
    private WorkerExecutor preprocessWorkers;
    private final PreprocessPriority preprocessPriority;
    private Future<VitServer> ready;

    private VitServer(Vertx vertx, ServerConfig config, PreprocessPriority preprocessPriority) {
        this.vertx = vertx;
        this.config = config;
        this.preprocessPriority = preprocessPriority;
    }

    /** Listens, loads the model, and completes once it answers; on failure, closes and fails with a message for people. */
    public static Future<VitServer> start(Vertx vertx, ServerConfig config) {
        return listen(vertx, config).compose(server -> server.ready()
                .recover(failure -> server.close().transform(closed -> Future.failedFuture(failure))));
    }

    /**
     * Listens at once and starts loading the model in the background: until {@link #ready()} completes,
     * {@code /health/ready} and the classify routes answer 503.
     */
    public static Future<VitServer> listen(Vertx vertx, ServerConfig config) {
        PreprocessPriority priority;
        try {
            priority = preprocessPriority(config);
        } catch (IllegalStateException e) {
            return Future.failedFuture(e);
        }
        VitServer server = new VitServer(vertx, config, priority);
        return server.deployApi().map(v -> {
            server.ready = server.load().map(server);
            return server;
        });
    }

    /**
     * The priority asked for, or by default {@link PreprocessPriority#IDLE} where the system allows it;
     * fails when an explicitly asked priority cannot be had.
     */
    private static PreprocessPriority preprocessPriority(ServerConfig config) {
        PreprocessPriority wanted = config.preprocessPriority().orElse(PreprocessPriority.IDLE);
        Optional<String> refused = wanted.unavailableReason();
        if (refused.isEmpty()) {
            return wanted;
        }
        if (config.preprocessPriority().isPresent()) {
            throw new IllegalStateException("--preprocess-priority " + wanted.name().toLowerCase(Locale.ROOT)
                    + " is not available here: " + refused.get() + "; use --preprocess-priority normal");
        }
        LOG.warn("preprocessing threads run at normal priority and slow the engine a little while they work: {}",
                refused.get());
        return PreprocessPriority.NORMAL;
    }

    /** Completes when the model answers; fails when it cannot be loaded. */
    public Future<VitServer> ready() {
        return ready;
    }

    private Future<Void> deployApi() {
        state.loading("loading model " + config.model());
        try {
            tls = config.tlsCertificate().map(cert -> new ListenerTls(cert, config.tlsKey().orElseThrow())).orElse(null);
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
        api = new ApiVerticle(config, state, metrics.registry(), tls);
        return vertx.deployVerticle(api).map(id -> {
            deploymentId = id;
            if (tls != null) {
                tlsWatch = tls.watch(vertx, TLS_WATCH_PERIOD);
            }
            LOG.info("listening on {}://{}:{}/ ; loading model {} with backend {}", scheme(),
                    hostForUrl(config.host()), api.actualPort(), config.model(), config.backend());
            if (api.actualGrpcPort() >= 0) {
                LOG.info("Open Inference Protocol over gRPC (inference.GRPCInferenceService) on {}:{}",
                        hostForUrl(config.host()), api.actualGrpcPort());
            }
            return null;
        });
    }

    /**
     * Reads the TLS certificate and key files again and, when they changed, serves the new ones on
     * every listener without closing a connection (SIGHUP); completes with whether they changed.
     */
    public Future<Boolean> reloadTls() {
        return tls != null ? tls.reload(vertx) : Future.succeededFuture(false);
    }

    private String scheme() {
        return tls != null ? "https" : "http";
    }

    private Future<Void> load() {
        long start = System.nanoTime();
        CompletableFuture<ServingModel> loading = new CompletableFuture<>();
        Thread loader = new Thread(() -> {
            try {
                loading.complete(loadModel());
            } catch (Throwable t) {
                loading.completeExceptionally(t);
            }
        }, "vitserve-model-loader");
        loader.start();
        return Future.fromCompletionStage(loading).map(serving -> {
            state.ready(serving);
            var device = serving.backend().device();
            LOG.info("ready in {} s: model {} ({} labels, {}x{}), backend {} ({}), device {} ({}), precision {}, weights {}, "
                            + "max batch {}, threads: {} engine + {} preprocessing at {} priority on {} cores, at {}://{}:{}/",
                    String.format("%.1f", (System.nanoTime() - start) / 1e9), serving.model().files().name(),
                    serving.model().labels().size(), serving.model().preprocessing().width(),
                    serving.model().preprocessing().height(), serving.backendId(), serving.backend().engine(),
                    device.id(), device.detail(), serving.backend().build().precision().id(),
                    serving.backend().weightsFile(), serving.scheduler().maxBatch(),
                    config.threads(), config.preprocessThreads(preprocessPriority),
                    preprocessPriority.name().toLowerCase(Locale.ROOT), Runtime.getRuntime().availableProcessors(),
                    scheme(), hostForUrl(config.host()), api.actualPort());
            return null;
        });
    }

    private ServingModel loadModel() throws ModelLoadException, BackendException {
        var provider = BackendRegistry.discover(VitServer.class.getClassLoader()).get(config.backend());
        provider.checkPrecision(config.precision());
        Path directory = new ModelResolver(vertx, config.hub(), state::loading)
                .resolve(config.model(), config.revision());
        state.loading("loading model " + config.model());
        long start = System.nanoTime();
        LoadedModel model = ModelLoader.load(directory, config.model());
        int batchBound = config.maxBatch(config.device().kind() != DeviceRequest.Kind.CPU);
        state.loading("starting backend " + config.backend());
        Backend backend = provider.open(model.files(), new BackendOptions(config.device(), config.threads(), batchBound,
                config.precision()));
        try {
            boolean gpu = backend.device().isGpu();
            Preprocessor preprocessor = new Preprocessor(model.preprocessing());
            ImageDecoder decoder = new ImageDecoder(config.maxPixels(), config.maxDecodeMs());
            metrics.modelLoaded((System.nanoTime() - start) / 1e9);
            int maxBatch = Math.min(batchBound, config.maxBatch(gpu));
            warmUp(preprocessor, backend, maxBatch);
            InferenceScheduler scheduler = new InferenceScheduler(backend,
                    new InferenceScheduler.TensorShape(3, preprocessor.height(), preprocessor.width()),
                    maxBatch, config.maxBatchDelayMs(gpu), config.maxQueue(),
                    config.maxQueueWait(), metrics);
            metrics.queueDepth(scheduler::queueDepth);
            preprocessWorkers = vertx.createSharedWorkerExecutor("vitserve-preprocess", config.preprocessThreads(preprocessPriority));
            ClassificationPipeline pipeline = new ClassificationPipeline(decoder,
                    preprocessor, scheduler, new Postprocessor(model.labels()), preprocessWorkers, preprocessPriority, metrics);
            return new ServingModel(model, config.backend(), backend, scheduler, pipeline);
        } catch (RuntimeException | BackendException e) {
            backend.close();
            throw e;
        }
    }

    private void warmUp(Preprocessor preprocessor, Backend backend, int maxBatch) throws BackendException {
        if (config.warmupInferences() == 0) {
            return;
        }
        state.loading("warming up");
        try {
            WarmUp.Report report = WarmUp.run(preprocessor, backend, config.warmupInferences(), maxBatch);
            LOG.info("warmed up in {} ms: decode + preprocess {} -> {} ms over {} runs, inference {} ms after {} runs{}",
                    Math.round(report.totalMs()), String.format("%.1f", report.firstPrepareMs()),
                    String.format("%.1f", report.lastPrepareMs()), report.preparations(),
                    String.format("%.1f", report.lastInferenceMs()), report.inferences(),
                    report.largestBatch() > 1 ? ", then a batch of " + report.largestBatch() : "");
        } catch (ImageDecodeException e) {
            throw new IllegalStateException("the generated warm-up photo could not be decoded: " + e.getMessage(), e);
        }
    }

    /** The port the server listens on. */
    public int port() {
        return api.actualPort();
    }

    /** The port of the gRPC service, or -1 when {@code --grpc-port} is not set. */
    public int grpcPort() {
        return api.actualGrpcPort();
    }

    /** Readiness and the model being served. */
    public ServerState state() {
        return state;
    }

    /**
     * Stops gracefully: readiness turns 503 at once while new requests are still served for
     * {@code --shutdown-grace-ms} (balancers take the server out of rotation meanwhile), then new
     * requests are refused, those in progress get up to {@code --drain-timeout-ms} to finish, and
     * everything is closed. Every answer from the first moment on closes its connection.
     */
    public Future<Void> shutdown() {
        return shutdown(config.shutdownGrace());
    }

    /** As {@link #shutdown()} with another grace period (zero for an interactive Ctrl-C). */
    public Future<Void> shutdown(Duration grace) {
        state.leaveRotation();
        Promise<Void> graceOver = Promise.promise();
        if (grace.isZero()) {
            graceOver.complete();
        } else {
            vertx.setTimer(grace.toMillis(), timer -> graceOver.complete());
        }
        return graceOver.future().compose(v -> {
            state.drain();
            long deadline = System.nanoTime() + config.drainTimeout().toNanos();
            Promise<Void> drained = Promise.promise();
            awaitDrained(deadline, drained);
            return drained.future();
        }).compose(v -> close());
    }

    /**
     * Completes {@code drained} once no request is in progress or the deadline has passed, looking
     * every 20 ms with one-shot timers: a periodic timer with no initial delay can fire before Vert.x
     * has recorded it, and cancelling it from its own handler then fails, which left shutdown hanging.
     */
    private void awaitDrained(long deadline, Promise<Void> drained) {
        int left = api != null ? api.requestsInProgress() : 0;
        if (left == 0 || System.nanoTime() > deadline) {
            if (left > 0) {
                LOG.warn("{} requests still in progress after {} ms; stopping anyway", left,
                        config.drainTimeout().toMillis());
            }
            drained.tryComplete();
        } else {
            vertx.setTimer(20, timer -> awaitDrained(deadline, drained));
        }
    }

    /** Stops listening, lets queued images finish, then releases the engine and temporary files. */
    public Future<Void> close() {
        state.drain();
        if (tlsWatch != -1) {
            vertx.cancelTimer(tlsWatch);
        }
        Future<Void> undeployed = deploymentId != null ? vertx.undeploy(deploymentId) : Future.succeededFuture();
        return undeployed.transform(done -> vertx.executeBlocking(() -> {
            ServingModel serving = state.take();
            if (serving != null) {
                serving.scheduler().close();
                serving.backend().close();
            }
            if (preprocessWorkers != null) {
                preprocessWorkers.close();
            }
            return null;
        }));
    }


    private static String hostForUrl(String host) {
        return host.contains(":") ? "[" + host + "]" : host;
    }
}
