package dev.vitserve.core.http;

import dev.vitserve.core.ServerState;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds the classify requests in progress (decoding, fetching, waiting, running): past the
 * limit a request gets 503 with Retry-After at once, so an overloaded server answers quickly and
 * its memory stays bounded. A request takes its slot once its body is complete (the
 * {@link ReceivingLimiter} bounds those still arriving), so slow uploads hold none. Once the
 * shutdown grace period is over, new requests get 503 here while the admitted ones finish; the
 * count of those in progress tells when draining is done.
 *
 * <p>A request waiting for its image URL gives its slot back while the fetch runs ({@link Slot#suspend}; the fetches
 * in progress have their own bound, {@code --max-url-fetches}) and takes one again when the image has come
 * ({@link Slot#resume}), so requests whose URL hangs cannot hold every slot.
 */
public final class RequestLimiter implements Handler<RoutingContext> {

    private final AtomicInteger inProgress = new AtomicInteger();
    private final int limit;
    private final long maxBodySize;
    private final ServerState state;

    RequestLimiter(int limit, long maxBodySize, ServerState state) {
        this.limit = limit;
        this.state = state;
        this.maxBodySize = maxBodySize;
    }

    @Override
    public void handle(RoutingContext ctx) {
        ApiException refused = admit();
        if (refused != null) {
            EarlyAnswer.send(ctx, refused, maxBodySize);
            return;
        }
        Slot slot = new Slot();
        ctx.put(SLOT, slot);
        ctx.addEndHandler(done -> slot.end());
        ctx.next();
    }

    private static final String SLOT = "vitserve.requestSlot";

    /** The slot the request was admitted with, or null when it came through no limiter. */
    static Slot slot(RoutingContext ctx) {
        return ctx.get(SLOT);
    }

    /** One request's slot, given back exactly once when the request ends, and not held while it waits for a URL. */
    final class Slot {
        private boolean held = true;
        private boolean ended;

        /** Gives the slot back while the request waits for something else (its URL fetch). */
        synchronized void suspend() {
            if (held) {
                held = false;
                release();
            }
        }

        /** Takes a slot again: null when done (or the request has ended), else the 503 refusing it. */
        synchronized ApiException resume() {
            if (held || ended) {
                return null;
            }
            ApiException refused = admit();
            held = refused == null;
            return refused;
        }

        /** The request has ended: its slot, if it holds one, is given back. */
        synchronized void end() {
            ended = true;
            suspend();
        }
    }

    /**
     * Admits one request that does not come through the router (gRPC).
     *
     * @return null when admitted, and then {@link #release()} must follow its answer; else the 503 refusing it
     */
    public ApiException admit() {
        if (state.draining()) {
            return ApiException.unavailable("not_ready", "the server is shutting down", 5);
        }
        if (inProgress.incrementAndGet() > limit) {
            inProgress.decrementAndGet();
            return ApiException.unavailable("overloaded", "the server is handling " + limit
                    + " requests already; retry after the time in Retry-After", 1);
        }
        return null;
    }

    /** Ends a request {@link #admit()} admitted. */
    public void release() {
        inProgress.decrementAndGet();
    }

    /** Requests admitted and not yet answered. */
    int inProgress() {
        return inProgress.get();
    }
}
