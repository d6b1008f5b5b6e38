package dev.vitserve.core;

import dev.vitserve.core.config.ModelSettings;
import dev.vitserve.core.config.ServerConfig;
import dev.vitserve.core.http.AdminVerticle;
import dev.vitserve.core.http.ApiVerticle;
import dev.vitserve.core.http.ListenerTls;
import dev.vitserve.core.http.ListenerTransport;
import dev.vitserve.core.image.DecoderWarmUp;
import dev.vitserve.core.image.ImageDecoder;
import dev.vitserve.core.inference.PreprocessPriority;
import dev.vitserve.core.memory.MemoryBudget;
import dev.vitserve.core.metrics.ServerMetrics;
import dev.vitserve.core.registry.ModelService;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running vitserve: the HTTP verticle listening at once (ready turns true when every model named
 * at start is loaded), the models loaded on a thread of their own by the {@link ModelService}, the
 * preprocessing workers they share; and their orderly shutdown.
 */
public final class VitServer {

    private static final Logger LOG = LoggerFactory.getLogger(VitServer.class);
    /** How often the TLS files are checked for a new certificate. */
    private static final Duration TLS_WATCH_PERIOD = Duration.ofSeconds(5);

    private final Vertx vertx;
    private final ServerConfig config;
    private final ServerMetrics metrics = ServerMetrics.of();
    private final WorkerExecutor preprocessWorkers;
    private final ModelService service;
    private final ServerState state;
    /** The memory every request's bodies, pixels and tensors are admitted against. */
    private final MemoryBudget budget;
    private ApiVerticle api;
    private ListenerTls tls;
    /** How every listener is built: one connection guard, access log and TLS for all of them. */
    private ListenerTransport transport;
    private long tlsWatch = -1;
    private String deploymentId;
    private AdminVerticle admin;
    private String adminDeploymentId;
    private final PreprocessPriority preprocessPriority;
    private Future<VitServer> ready;
    private Future<DecoderWarmUp.Report> decoderWarmUp;

    private VitServer(Vertx vertx, ServerConfig config, PreprocessPriority preprocessPriority) {
        this.vertx = vertx;
        this.config = config;
        this.preprocessPriority = preprocessPriority;
        this.preprocessWorkers = vertx.createSharedWorkerExecutor("vitserve-preprocess",
                config.preprocessThreads(preprocessPriority));
        this.budget = new MemoryBudget(config.memoryBudget());
        this.service = new ModelService(vertx, config, preprocessWorkers, preprocessPriority, metrics, budget);
        this.state = new ServerState(service.registry());
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
        return server.deployApi()
                .recover(failure -> server.close().transform(closed -> Future.failedFuture(failure)))
                .map(v -> {
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

    /** Completes when every model named at start answers; fails when one cannot be loaded. */
    public Future<VitServer> ready() {
        return ready;
    }

    private Future<Void> deployApi() {
        try {
            tls = config.tlsCertificate().map(cert -> new ListenerTls(cert, config.tlsKey().orElseThrow())).orElse(null);
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
        transport = new ListenerTransport(vertx, config, metrics.registry(), tls);
        api = new ApiVerticle(config, state, service, metrics.registry(), transport, budget);
        return vertx.deployVerticle(api).map(id -> {
            deploymentId = id;
            if (tls != null) {
                tlsWatch = tls.watch(vertx, TLS_WATCH_PERIOD);
            }
            LOG.info("listening on {}://{}:{}/ ; loading {} with backend {}", scheme(), hostForUrl(config.host()),
                    api.actualPort(), config.models().stream().map(ModelSettings::name).toList(), config.backend());
            if (api.actualGrpcPort() >= 0) {
                LOG.info("Open Inference Protocol over gRPC (inference.GRPCInferenceService) on {}:{}",
                        hostForUrl(config.host()), api.actualGrpcPort());
            }
            return null;
        }).compose(v -> deployAdmin());
    }

    /** The management API on its own port, when {@code --admin-port} is set. */
    private Future<Void> deployAdmin() {
        if (config.adminPort().isEmpty()) {
            return Future.succeededFuture();
        }
        admin = new AdminVerticle(config, state, service, transport);
        return vertx.deployVerticle(admin).map(id -> {
            adminDeploymentId = id;
            LOG.info("management API on {}://{}:{}/admin/models{}", scheme(), hostForUrl(config.adminHost()), admin.actualPort(),
                    config.adminApiKey().isPresent() ? " (API key required)" : "");
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

    /** The port of the management API, or -1 when it is off. */
    public int adminPort() {
        return admin != null ? admin.actualPort() : -1;
    }

    /**
     * Loads the models named at start, one after the other, beside the decoders' warm-up; fails with the first model
     * that cannot be loaded. Ready once both are done.
     */
    private Future<Void> load() {
        long start = System.nanoTime();
        List<Future<?>> loads = new ArrayList<>();
        loads.add(warmUpDecoders());
        for (ModelSettings settings : config.models()) {
            loads.add(service.start(settings).ready());
        }
        return Future.all(loads).map(all -> {
            state.started();
            LOG.info("ready in {} s: {} model(s), threads: {} preprocessing at {} priority on {} cores, at {}://{}:{}/",
                    String.format("%.1f", (System.nanoTime() - start) / 1e9), config.models().size(),
                    config.preprocessThreads(preprocessPriority), preprocessPriority.name().toLowerCase(Locale.ROOT),
                    Runtime.getRuntime().availableProcessors(), scheme(), hostForUrl(config.host()), api.actualPort());
            return null;
        });
    }

    /**
     * Decodes an image of every format once on a preprocessing worker (the threads that decode requests), so that the
     * first request of each format does not load the decoder; readiness waits for it.
     */
    private Future<DecoderWarmUp.Report> warmUpDecoders() {
        decoderWarmUp = preprocessWorkers.executeBlocking(() -> DecoderWarmUp.run(
                new ImageDecoder(config.maxPixels(), config.maxDecodeMs(), budget))).onSuccess(report -> {
                    state.decodersWarmedUp();
                    if (report.unavailable().isEmpty()) {
                        LOG.info(report.summary());
                    } else {
                        LOG.warn(report.summary());
                    }
                });
        return decoderWarmUp;
    }

    /** What the decoders' warm-up did, once done (it completes before {@link #ready()}). */
    public Future<DecoderWarmUp.Report> decoderWarmUp() {
        return decoderWarmUp;
    }

    /** The port the server listens on. */
    public int port() {
        return api.actualPort();
    }

    /** The port of the gRPC service, or -1 when {@code --grpc-port} is not set. */
    public int grpcPort() {
        return api.actualGrpcPort();
    }

    /** Readiness and the models being served. */
    public ServerState state() {
        return state;
    }

    /** Loads, unloads and reloads models while the server runs. */
    public ModelService models() {
        return service;
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
        Future<Void> undeployed = (adminDeploymentId != null ? vertx.undeploy(adminDeploymentId) : Future.<Void>succeededFuture())
                .transform(done -> deploymentId != null ? vertx.undeploy(deploymentId) : Future.<Void>succeededFuture())
                .andThen(done -> {
                    if (transport != null) {
                        transport.close();
                    }
                });
        return undeployed.transform(done -> vertx.executeBlocking(() -> {
            service.close();
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
