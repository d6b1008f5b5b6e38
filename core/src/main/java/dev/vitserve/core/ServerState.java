package dev.vitserve.core;

import dev.vitserve.core.registry.ModelEntry;
import dev.vitserve.core.registry.ModelRegistry;
import java.util.List;

/** Whether the server can answer yet (or still), and its models, shared by the HTTP routes and the lifecycle. */
public final class ServerState {

    private final ModelRegistry models;
    private volatile boolean leaving;
    private volatile boolean draining;
    private volatile boolean started;
    private volatile boolean decodersWarm;

    /** The state of a server whose models are those of the registry. */
    public ServerState(ModelRegistry models) {
        this.models = models;
    }

    /** The state of a server without models yet (an empty registry). */
    public ServerState() {
        this(new ModelRegistry());
    }

    /** The models, to look one up by name or take the default one. */
    public ModelRegistry models() {
        return models;
    }

    /**
     * Whether balancers should send requests here: every model named at start is loaded, the image decoders are warmed
     * up and shutdown has not begun.
     */
    public boolean ready() {
        return !leaving && !draining && started && decodersWarm;
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
        if (leaving) {
            return "shutting down, serving on until balancers have seen it";
        }
        List<ModelEntry> all = models.list();
        for (ModelEntry entry : all) {
            if (entry.state() != ModelEntry.State.READY) {
                return all.size() == 1 ? entry.status() : entry.name() + ": " + entry.status();
            }
        }
        if (!decodersWarm) {
            return "warming up the image decoders";
        }
        return started ? "ready" : "starting";
    }

    /** Every model named at start answers. */
    void started() {
        started = true;
    }

    /** Every image format has been decoded once ({@link dev.vitserve.core.image.DecoderWarmUp}). */
    void decodersWarmedUp() {
        decodersWarm = true;
    }

    /** Starts the grace period: readiness turns false, new requests are still served. */
    void leaveRotation() {
        leaving = true;
    }

    /** Stops taking new work: readiness turns false and new requests are refused. */
    void drain() {
        draining = true;
    }
}
