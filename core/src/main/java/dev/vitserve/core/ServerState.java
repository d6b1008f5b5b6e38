package dev.vitserve.core;

import java.util.concurrent.atomic.AtomicReference;

/** Whether the server can classify yet (or still), shared by the HTTP routes and the lifecycle. */
public final class ServerState {

    private final AtomicReference<ServingModel> serving = new AtomicReference<>();
    private volatile boolean leaving;
    private volatile boolean draining;
    private volatile String loadingStatus = "starting";

    /** The model answering requests, or null while loading and once closed; requests in progress keep it while draining. */
    public ServingModel serving() {
        return serving.get();
    }

    /** Whether balancers should send requests here: the model is loaded and shutdown has not begun. */
    public boolean ready() {
        return !leaving && !draining && serving.get() != null;
    }

    /** Whether shutdown has begun (grace period or drain): answers close their connections. */
    public boolean stopping() {
        return leaving || draining;
    }

    /** Whether the grace period is over: new requests are refused, those in progress finish. */
    public boolean draining() {
        return draining;
    }

    /** What the server is doing while not ready, for people (e.g. "loading model"). */
    public String loadingStatus() {
        if (draining) {
            return "shutting down";
        }
        return leaving ? "shutting down, serving on until balancers have seen it" : loadingStatus;
    }

    void loading(String status) {
        this.loadingStatus = status;
    }

    void ready(ServingModel model) {
        serving.set(model);
    }

    /** Starts the grace period: readiness turns false, new requests are still served. */
    void leaveRotation() {
        leaving = true;
    }

    /** Stops taking new work: readiness turns false and new requests are refused. */
    void drain() {
        draining = true;
    }

    ServingModel take() {
        return serving.getAndSet(null);
    }
}
