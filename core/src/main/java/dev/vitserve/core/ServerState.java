package dev.vitserve.core;

import java.util.concurrent.atomic.AtomicReference;

/** Whether the server can classify yet (or still), shared by the HTTP routes and the lifecycle. */
public final class ServerState {

    private final AtomicReference<ServingModel> serving = new AtomicReference<>();
    private volatile boolean draining;
    private volatile String loadingStatus = "starting";

    /** The model answering requests, or null while loading or after shutdown began. */
    public ServingModel serving() {
        return draining ? null : serving.get();
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
