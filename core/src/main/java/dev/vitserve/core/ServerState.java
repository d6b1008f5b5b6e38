package dev.vitserve.core;

import java.util.concurrent.atomic.AtomicReference;

/** Whether the server can classify yet (or still), shared by the HTTP routes and the lifecycle. */
public final class ServerState {

    private final AtomicReference<ServingModel> serving = new AtomicReference<>();
    private volatile boolean draining;
    private volatile String loadingStatus = "starting";

    /** The model answering requests, or null while loading and once closed; requests in progress keep it while draining. */
    public ServingModel serving() {
        return serving.get();
    }

    /** Whether new requests are taken: the model is loaded and shutdown has not begun. */
    public boolean ready() {
        return !draining && serving.get() != null;
    }

    /** Whether shutdown has begun: new requests are refused, those in progress finish. */
    public boolean draining() {
        return draining;
    }

    /** What the server is doing while not ready, for people (e.g. "loading model"). */
    public String loadingStatus() {
        return draining ? "shutting down" : loadingStatus;
    }

    void loading(String status) {
        this.loadingStatus = status;
    }

    void ready(ServingModel model) {
        serving.set(model);
    }

    /** Stops taking new work: readiness turns false. */
    void drain() {
        draining = true;
    }

    ServingModel take() {
        return serving.getAndSet(null);
    }
}
