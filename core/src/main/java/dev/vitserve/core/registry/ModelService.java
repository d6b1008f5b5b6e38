package dev.vitserve.core.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vitserve.core.config.ConfigException;
import dev.vitserve.core.config.ModelSettings;
import dev.vitserve.core.config.ServerConfig;
import dev.vitserve.core.inference.PreprocessPriority;
import dev.vitserve.core.metrics.ModelMetrics;
import dev.vitserve.core.metrics.ServerMetrics;
import dev.vitserve.core.model.ModelLoadException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads, unloads and reloads the models of the {@link ModelRegistry} while the server runs: what the
 * management API (and any other front door managing models) calls. Models load one at a time on a
 * thread of their own, never an event loop; a reload loads the new copy beside the old one, switches
 * when it is ready, then frees the old copy once the requests using it are done.
 */
public final class ModelService implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ModelService.class);

    /**
     * A load that has begun.
     *
     * @param entry the model, in state {@code loading}, to watch
     * @param ready completes when it answers, fails with the reason it cannot be loaded
     */
    public record Loading(ModelEntry entry, Future<Void> ready) {
    }

    private final Vertx vertx;
    private final ServerConfig config;
    /** Where the models loaded through this service may be read from. */
    private final AdminModelRoots roots;
    private final ModelRegistry registry = new ModelRegistry();
    private final ServingModelLoader loader;
    private final ServerMetrics metrics;
    private final Map<String, ModelMetrics> meters = new ConcurrentHashMap<>();
    private final ExecutorService loadingThread = Executors.newSingleThreadExecutor(task -> {
        Thread thread = new Thread(task, "vitserve-model-loader");
        thread.setDaemon(true);
        return thread;
    });
    private volatile boolean closed;

    public ModelService(Vertx vertx, ServerConfig config, WorkerExecutor preprocessWorkers,
                        PreprocessPriority preprocessPriority, ServerMetrics metrics) {
        this(vertx, config, preprocessWorkers, preprocessPriority, metrics, null);
    }

    /** The same, every model's decodes and tensors claiming their memory from {@code budget} (null: none). */
    public ModelService(Vertx vertx, ServerConfig config, WorkerExecutor preprocessWorkers,
                        PreprocessPriority preprocessPriority, ServerMetrics metrics,
                        dev.vitserve.core.memory.MemoryBudget budget) {
        this.vertx = vertx;
        this.config = config;
        this.roots = new AdminModelRoots(config.adminModelRoots());
        this.metrics = metrics;
        this.loader = new ServingModelLoader(vertx, config, preprocessWorkers, preprocessPriority, budget);
        metrics.modelsLoaded(registry::loadedCount);
    }

    /** The models, to look them up. */
    public ModelRegistry registry() {
        return registry;
    }

    /** Every model, in the order they were added. */
    public List<ModelEntry> list() {
        return registry.list();
    }

    /**
     * Adds a model the server starts with and begins loading it, without checking its folder first
     * (the load says what is wrong).
     */
    public Loading start(ModelSettings settings) {
        ModelEntry entry = registry.add(settings, config.maxModels());
        return new Loading(entry, loadInto(entry, settings, false));
    }

    /**
     * Adds a model and begins loading it. Completes at once with the load under way, or fails with a
     * {@link ModelException}: {@code DUPLICATE_NAME}, {@code TOO_MANY_MODELS}, or {@code INVALID_MODEL} for a
     * local folder that is not a ViT checkpoint vitserve can serve (a Hub model's problems show once it loads).
     */
    public Future<Loading> load(ModelSettings given) {
        return vertx.executeBlocking(() -> {
            ModelSettings settings = roots.confine(given);
            registry.checkRoom(settings.name(), config.maxModels());
            checkRevision(settings);
            checkFolder(settings);
            return start(settings);
        }, false);
    }

    /**
     * Loads a new copy of the model with its settings changed by {@code changes} (any per-model key but
     * {@code name}; empty for the same settings, e.g. a new revision of a branch), beside the copy answering;
     * switches to it atomically when it is ready, then drains and frees the old copy. Fails at once with a
     * {@link ModelException} ({@code UNKNOWN_MODEL}, {@code BUSY}, {@code INVALID_MODEL}); the load's own
     * failure leaves the old copy answering.
     */
    public Future<Loading> reload(String name, JsonNode changes) {
        ModelEntry entry = registry.require(name);
        ModelSettings settings;
        try {
            settings = changes == null || changes.isEmpty() ? entry.settings() : entry.settings().with(changes);
        } catch (ConfigException e) {
            return Future.failedFuture(new ModelException(ModelException.Reason.INVALID_MODEL, e.getMessage()));
        }
        if (!settings.name().equals(name)) {
            return Future.failedFuture(new ModelException(ModelException.Reason.INVALID_MODEL,
                    "a reload keeps the model's name; load '" + settings.name() + "' as a new model instead"));
        }
        ModelSettings requested = settings;
        return vertx.executeBlocking(() -> {
            // the source the model already had was the operator's or confined at its load; a new one is confined
            ModelSettings changed = changes != null && changes.has("model") ? roots.confine(requested) : requested;
            checkRevision(changed);
            checkFolder(changed);
            synchronized (this) {
                if (entry.state() == ModelEntry.State.LOADING || entry.state() == ModelEntry.State.UNLOADING
                        || entry.reloading()) {
                    throw busy(entry, "reloaded");
                }
                entry.reloading(true, "reloading: waiting to load");
            }
            return new Loading(entry, loadInto(entry, changed, true));
        }, false);
    }

    /**
     * Stops admitting requests for the model, lets those using it finish, then frees its engine and forgets
     * it. Fails at once with a {@link ModelException} ({@code UNKNOWN_MODEL}, {@code BUSY} while it loads or
     * reloads, {@code DEFAULT_MODEL}); the future completes once its memory is freed.
     */
    public synchronized Future<Void> unload(String name) {
        ModelEntry entry = registry.require(name);
        if (entry.state() == ModelEntry.State.LOADING || entry.state() == ModelEntry.State.UNLOADING
                || entry.reloading()) {
            throw busy(entry, "unloaded");
        }
        if (entry == registry.defaultModel()) {
            throw new ModelException(ModelException.Reason.DEFAULT_MODEL, "'" + name + "' is the default model "
                    + "(the routes without a model name use it) and cannot be unloaded; reload it instead");
        }
        ServingModel copy = entry.unloading();
        LOG.info("unloading model {}", name);
        return free(copy).andThen(done -> {
            entry.unloaded();
            registry.remove(entry);
            ModelMetrics gone = meters.remove(name);
            if (gone != null) {
                gone.close();
            }
            LOG.info("model {} unloaded", name);
        });
    }

    private static ModelException busy(ModelEntry entry, String what) {
        String doing = entry.reloading() ? "reloading" : entry.state().id();
        return new ModelException(ModelException.Reason.BUSY, "model '" + entry.name() + "' is " + doing
                + " and cannot be " + what + " now; wait until GET /v1/models/" + entry.name() + " says ready");
    }

    private static void checkRevision(ModelSettings settings) {
        try {
            settings.checkRevision();
        } catch (ConfigException e) {
            throw new ModelException(ModelException.Reason.INVALID_MODEL, e.getMessage());
        }
    }

    private static void checkFolder(ModelSettings settings) {
        try {
            ServingModelLoader.check(settings);
        } catch (ModelLoadException e) {
            throw new ModelException(ModelException.Reason.INVALID_MODEL, e.getMessage());
        }
    }

    /** Loads a copy on the loading thread; when it is ready the entry answers with it and the old copy is freed. */
    private Future<Void> loadInto(ModelEntry entry, ModelSettings settings, boolean reload) {
        ModelMetrics modelMetrics = meters.computeIfAbsent(entry.name(), name -> {
            ModelMetrics created = metrics.forModel(name);
            created.queueDepth(() -> entry.serving().map(copy -> copy.scheduler().queueDepth()).orElse(0));
            return created;
        });
        String prefix = reload ? "reloading: " : "";
        long start = System.nanoTime();
        CompletableFuture<ServingModel> loading = CompletableFuture.supplyAsync(() -> {
            try {
                return loader.load(settings, modelMetrics, status -> {
                    if (reload) {
                        entry.reloading(true, prefix + status);
                    } else {
                        entry.loading(status);
                    }
                });
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        }, loadingThread);
        return Future.fromCompletionStage(loading).transform(done -> {
            if (done.failed()) {
                Throwable cause = done.cause() instanceof CompletionException wrapped && wrapped.getCause() != null
                        ? wrapped.getCause() : done.cause();
                String reason = cause.getMessage() != null ? cause.getMessage() : cause.toString();
                if (reload && entry.state() == ModelEntry.State.READY) {
                    entry.reloading(false, reason);
                } else {
                    entry.failed(reason);
                }
                LOG.error("model {} could not be {}: {}", entry.name(), reload ? "reloaded" : "loaded", reason,
                        cause instanceof RuntimeException ? cause : null);
                return Future.failedFuture(cause);
            }
            ServingModel copy = done.result();
            if (closed) {
                copy.close();
                return Future.failedFuture("the server stopped while model " + entry.name() + " loaded");
            }
            ServingModel old = entry.ready(copy);
            log(copy, start);
            if (old != null) {
                free(old).onSuccess(v -> LOG.info("the previous copy of model {} is freed", entry.name()));
            }
            return Future.succeededFuture();
        });
    }

    /** Completes once no request uses the copy and its engine is freed. */
    private Future<Void> free(ServingModel copy) {
        if (copy == null) {
            return Future.succeededFuture();
        }
        Promise<Void> drained = Promise.promise();
        awaitUnused(copy, drained);
        return drained.future().compose(v -> vertx.executeBlocking(() -> {
            copy.close();
            FreedMemory.returnToSystem();
            return null;
        }, false));
    }

    private void awaitUnused(ServingModel copy, Promise<Void> drained) {
        if (copy.users() == 0) {
            drained.complete();
        } else {
            vertx.setTimer(20, timer -> awaitUnused(copy, drained));
        }
    }

    private void log(ServingModel copy, long start) {
        var device = copy.backend().device();
        LOG.info("model {} ready in {} s: {} ({} labels, {}x{}), backend {} ({}), device {} ({}), precision {}, "
                        + "weights {}, max batch {}, {} engine threads",
                copy.settings().name(), String.format("%.1f", (System.nanoTime() - start) / 1e9),
                copy.model().files().name(), copy.model().labels().size(), copy.model().preprocessing().width(),
                copy.model().preprocessing().height(), copy.backendId(), copy.backend().engine(), device.id(),
                device.detail(), copy.backend().build().precision().id(), copy.backend().weightsFile(),
                copy.scheduler().maxBatch(), copy.settings().threads());
    }

    /** Frees every engine; a load under way is dropped when it ends. */
    @Override
    public void close() {
        closed = true;
        loadingThread.shutdown();
        for (ModelEntry entry : registry.list()) {
            ServingModel copy = entry.unloading();
            if (copy != null) {
                copy.close();
                entry.unloaded();
            }
        }
        meters.values().forEach(ModelMetrics::close);
        meters.clear();
    }
}
