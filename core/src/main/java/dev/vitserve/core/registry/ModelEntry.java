package dev.vitserve.core.registry;

import dev.vitserve.core.config.ModelSettings;
import io.vertx.core.Future;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * One name in the {@link ModelRegistry}: its state, what it is doing while not ready, and the copy
 * answering its requests. A reload swaps that copy atomically; requests in progress keep theirs.
 */
public final class ModelEntry {

    /** Where a model is in its life. */
    public enum State {
        LOADING, READY, FAILED, UNLOADING;

        /** The lower-case name the API uses. */
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final String name;
    private volatile ModelSettings settings;
    private volatile State state = State.LOADING;
    private volatile String status = "waiting to load";
    private volatile boolean reloading;
    private final AtomicReference<ServingModel> serving = new AtomicReference<>();

    ModelEntry(ModelSettings settings) {
        this.name = settings.name();
        this.settings = settings;
    }

    /** The name requests use. */
    public String name() {
        return name;
    }

    /** The settings of the copy loaded or being loaded. */
    public ModelSettings settings() {
        return settings;
    }

    public State state() {
        return state;
    }

    /** For people: download progress or the step while loading, the reason when failed; "ready" otherwise. */
    public String status() {
        return status;
    }

    /** Whether a new copy is loading beside the one answering. */
    public boolean reloading() {
        return reloading;
    }

    /** The copy answering now, if any (for descriptions; requests go through {@link #use}). */
    public Optional<ServingModel> serving() {
        return Optional.ofNullable(serving.get());
    }

    /**
     * The copy answering now, to describe it (requests go through {@link #use}, which holds it).
     *
     * @throws ModelException {@link ModelException.Reason#NOT_READY} when the model is not answering
     */
    public ServingModel answering() {
        ServingModel model = serving.get();
        if (model == null || state == State.UNLOADING) {
            throw notReady();
        }
        return model;
    }

    private ModelException notReady() {
        return new ModelException(ModelException.Reason.NOT_READY, "model '" + name + "' is not ready: "
                + (state == State.UNLOADING ? "it is being unloaded" : status));
    }

    /**
     * Runs {@code work} on the copy answering now and holds that copy until the returned future
     * completes, so that a reload or an unload frees it only after this request.
     *
     * @throws ModelException {@link ModelException.Reason#NOT_READY} when the model is not answering
     */
    public <T> Future<T> use(Function<ServingModel, Future<T>> work) {
        ServingModel model = acquire();
        Future<T> result;
        try {
            result = work.apply(model);
        } catch (RuntimeException | Error e) {
            model.release();
            throw e;
        }
        return result.andThen(done -> model.release());
    }

    private ServingModel acquire() {
        while (true) {
            ServingModel model = serving.get();
            State now = state;
            if (model == null || now == State.UNLOADING) {
                throw notReady();
            }
            if (model.tryAcquire()) {
                return model;
            }
            Thread.onSpinWait();
        }
    }

    void loading(String what) {
        status = what;
    }

    /** Answers with {@code model} from now on; returns the copy it replaces, if any, already retired. */
    ServingModel ready(ServingModel model) {
        settings = model.settings();
        ServingModel old = serving.getAndSet(model);
        state = State.READY;
        status = "ready";
        reloading = false;
        if (old != null) {
            old.retire();
        }
        return old;
    }

    void failed(String reason) {
        state = State.FAILED;
        status = reason;
    }

    void reloading(boolean on, String what) {
        reloading = on;
        if (on) {
            status = what;
        } else if (state == State.READY) {
            status = "ready; the last reload failed: " + what;
        }
    }

    /** Stops admitting requests; returns the copy to drain and free, if any, already retired. */
    ServingModel unloading() {
        state = State.UNLOADING;
        status = "unloading";
        ServingModel model = serving.get();
        if (model != null) {
            model.retire();
        }
        return model;
    }

    /** Forgets the copy once it is freed. */
    void unloaded() {
        serving.set(null);
    }
}
