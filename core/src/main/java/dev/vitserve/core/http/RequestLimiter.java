package dev.vitserve.core.http;

import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.PlatformHandler;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds the classify requests in progress (reading, decoding, waiting, running): past the
 * limit a request gets 503 with Retry-After before its body is read, so an overloaded server
 * answers at once and its memory stays bounded. Also counts what is in progress, for draining.
 */
final class RequestLimiter implements PlatformHandler {

    private final AtomicInteger inProgress = new AtomicInteger();
    private final int limit;
    private final long maxBodySize;

    RequestLimiter(int limit, long maxBodySize) {
        this.limit = limit;
        this.maxBodySize = maxBodySize;
    }

    @Override
    public void handle(RoutingContext ctx) {
        if (inProgress.incrementAndGet() > limit) {
            inProgress.decrementAndGet();
            EarlyAnswer.send(ctx, ApiException.unavailable("overloaded", "the server is handling " + limit
                    + " requests already; retry after the time in Retry-After", 1), maxBodySize);
            return;
        }
        ctx.addEndHandler(done -> inProgress.decrementAndGet());
        ctx.next();
    }

    /** Requests admitted and not yet answered. */
    int inProgress() {
        return inProgress.get();
    }
}
