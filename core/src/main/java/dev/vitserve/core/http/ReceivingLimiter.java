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
 * The gRPC service reserves its messages here too, through {@link #reserve(long, Runnable)}.
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
        Reservation place = reserve(declaredLength(request), () -> {
            if (!request.isEnded()) {
                timedOut(ctx);
            }
        });
        if (place == null) {
            EarlyAnswer.send(ctx, ApiException.unavailable("overloaded", "the server is receiving " + maxCount
                    + " request bodies or as many bytes as it holds for them already; retry after the time in Retry-After",
                    1), maxBodySize);
            return;
        }
        request.end().onComplete(done -> place.release());
        ctx.addEndHandler(done -> place.release());
        ctx.next();
    }

    /** A body's place among those arriving, given back once: when it has arrived, timed out or been given up. */
    public final class Reservation {
        private final long declared;
        private final AtomicBoolean released = new AtomicBoolean();
        private long deadline;

        private Reservation(long declared) {
            this.declared = declared;
        }

        /** Gives the place back (again is harmless) and stops its deadline. */
        public void release() {
            if (released.compareAndSet(false, true)) {
                vertx.cancelTimer(deadline);
                ReceivingLimiter.this.release(declared);
            }
        }
    }

    /**
     * Reserves a place for a body of at most {@code declared} bytes (a gRPC message, or a REST body from its
     * Content-Length) that must arrive within {@code --body-timeout-ms}: past it the place is given back and
     * {@code timedOut} runs. Null when the bounds are reached.
     */
    public Reservation reserve(long declared, Runnable timedOut) {
        if (!reserve(declared)) {
            return null;
        }
        Reservation place = new Reservation(declared);
        place.deadline = vertx.setTimer(timeout.toMillis(), id -> {
            place.release();
            timedOut.run();
        });
        return place;
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

    private synchronized boolean reserve(long declared) {
        if (count >= maxCount || bytes + declared > maxBytes) {
            return false;
        }
        count++;
        bytes += declared;
        return true;
    }

    private synchronized void release(long declared) {
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
