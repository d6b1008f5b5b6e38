package dev.vitserve.core.http;

import dev.vitserve.core.ServerState;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Bounds the request bodies still arriving: how many at once ({@code --max-receiving}), the memory
 * they may hold together ({@code --max-receiving-size}, counted from each Content-Length, the body
 * limit when chunked) and how long each may take ({@code --body-timeout-ms}, then 408 and the
 * connection closed). A request still sending its body holds none of the {@link RequestLimiter}'s
 * slots, which go to requests ready to be worked on, so slow uploads cannot starve the others.
 * The gRPC service reserves its messages here too, through {@link #reserve(long)}.
 */
public final class ReceivingLimiter implements Handler<RoutingContext> {

    private final Vertx vertx;
    private final ServerState state;
    private final int maxCount;
    private final long maxBytes;
    private final long maxBodySize;
    private final Duration timeout;
    private int count;
    private long bytes;

    ReceivingLimiter(Vertx vertx, ServerState state, int maxCount, long maxBytes, long maxBodySize, Duration timeout) {
        this.vertx = vertx;
        this.state = state;
        this.maxCount = maxCount;
        this.maxBytes = maxBytes;
        this.maxBodySize = maxBodySize;
        this.timeout = timeout;
    }

    @Override
    public void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        if (state.draining()) {
            EarlyAnswer.send(ctx, ApiException.unavailable("not_ready", "the server is shutting down", 5), maxBodySize);
            return;
        }
        if (request.isEnded()) {
            ctx.next();
            return;
        }
        long declared = declaredLength(request);
        if (!reserve(declared)) {
            EarlyAnswer.send(ctx, ApiException.unavailable("overloaded", "the server is receiving " + maxCount
                    + " request bodies or as many bytes as it holds for them already; retry after the time in Retry-After",
                    1), maxBodySize);
            return;
        }
        AtomicBoolean released = new AtomicBoolean();
        Runnable release = () -> {
            if (released.compareAndSet(false, true)) {
                release(declared);
            }
        };
        long timer = vertx.setTimer(timeout.toMillis(), id -> {
            if (!request.isEnded()) {
                release.run();
                timedOut(ctx);
            }
        });
        request.end().onComplete(done -> {
            vertx.cancelTimer(timer);
            release.run();
        });
        ctx.addEndHandler(done -> {
            vertx.cancelTimer(timer);
            release.run();
        });
        ctx.next();
    }

    /** Answers 408 (unless an answer has begun) and closes the connection, whatever the client is still sending. */
    private void timedOut(RoutingContext ctx) {
        HttpServerResponse response = ctx.response();
        if (response.headWritten() || response.closed()) {
            ctx.request().connection().close();
            return;
        }
        ctx.addEndHandler(done -> ctx.request().connection().close());
        response.putHeader("Connection", "close");
        ErrorResponses.send(ctx, new ApiException(408, "body_timeout", "the request body did not arrive within "
                + timeout.toMillis() + " ms"));
    }

    private long declaredLength(HttpServerRequest request) {
        String length = request.getHeader("Content-Length");
        if (length != null && length.matches("\\d{1,18}")) {
            return Math.min(Long.parseLong(length), maxBodySize);
        }
        return maxBodySize;
    }

    /**
     * Reserves room for a body that does not come through the router (a gRPC message) of at most {@code declared}
     * bytes; when it returns true, {@link #release(long)} must follow once the body has arrived or timed out.
     */
    public synchronized boolean reserve(long declared) {
        if (count >= maxCount || bytes + declared > maxBytes) {
            return false;
        }
        count++;
        bytes += declared;
        return true;
    }

    /** Gives back what {@link #reserve(long)} took. */
    public synchronized void release(long declared) {
        count--;
        bytes -= declared;
    }

    /** How long a body may take to arrive ({@code --body-timeout-ms}). */
    public Duration timeout() {
        return timeout;
    }

    /** Requests whose body is still arriving. */
    synchronized int receiving() {
        return count;
    }
}
