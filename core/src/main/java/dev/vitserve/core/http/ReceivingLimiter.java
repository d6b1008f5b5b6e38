package dev.vitserve.core.http;

import dev.vitserve.core.ServerState;
import dev.vitserve.core.config.ByteSizeConverter;
import dev.vitserve.core.memory.MemoryBudget;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Bounds the request bodies still arriving: how many at once ({@code --max-receiving}), the memory
 * they may hold together ({@code --max-receiving-size}, counted from each Content-Length, the body
 * limit when chunked) and how long each may take ({@code --body-timeout-ms}, then 408 and the
 * connection closed). A request still sending its body holds none of the {@link RequestLimiter}'s
 * slots, which go to requests ready to be worked on, so slow uploads cannot starve the others.
 * The gRPC service reserves its calls here too, through {@link #reserveGrowing}: a call holds the bytes it has
 * actually sent so far, growing as they arrive, and one client address at most {@code --max-receiving-per-client}
 * calls receiving, so stalled calls cannot take the room the others need.
 *
 * <p>The bytes are also the request's first claim on the server's {@link MemoryBudget}: a REST body's
 * {@link RequestMemory} grows by its Content-Length times the copies of it held ({@link RequestMemory#copies}) before
 * it is read, and keeps them (shrunk to the bytes that came, for a chunked body) until the request ends; a gRPC call's
 * place holds twice the bytes it has sent until {@link Reservation#end}. Past the budget, 503 with Retry-After (413
 * for a body that could never fit it).
 */
public final class ReceivingLimiter implements Handler<RoutingContext> {

    private final Vertx vertx;
    private final ServerState state;
    private final int maxCount;
    private final long maxBytes;
    private final long maxBodySize;
    private final int maxPerClient;
    private final Duration timeout;
    private final MemoryBudget budget;
    private final Map<String, Integer> perClient = new HashMap<>();
    private int count;
    private long bytes;

    ReceivingLimiter(Vertx vertx, ServerState state, int maxCount, long maxBytes, long maxBodySize, int maxPerClient,
                     Duration timeout, MemoryBudget budget) {
        this.budget = budget;
        this.vertx = vertx;
        this.state = state;
        this.maxCount = maxCount;
        this.maxBytes = maxBytes;
        this.maxBodySize = maxBodySize;
        this.maxPerClient = maxPerClient;
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
        Reservation place = reserve(null, declaredLength(request), () -> {
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
        long declared = declaredLength(request);
        long copies = RequestMemory.copies(request.getHeader("Content-Type"));
        MemoryBudget.Claim memory = RequestMemory.of(ctx, budget);
        if (!memory.grow(declared * copies)) {
            place.release();
            EarlyAnswer.send(ctx, declared * copies > budget.largest(MemoryBudget.Kind.REQUEST)
                    ? ApiException.tooLarge("body_too_large", "a body of " + ByteSizeConverter.format(declared)
                            + " needs more memory than this server's budget gives one request (--memory-budget "
                            + ByteSizeConverter.format(budget.total()) + ")")
                    : ApiException.unavailable("overloaded", budget.refusal("this body", declared * copies), 1),
                    maxBodySize);
            return;
        }
        request.end().onComplete(done -> {
            place.release();
            long came = Math.min(declared, Math.max(0, request.bytesRead()));
            if (came < declared) {
                memory.shrinkTo(memory.held() - (declared - came) * copies);
            }
        });
        ctx.addEndHandler(done -> place.release());
        ctx.next();
    }

    /** A body's place among those arriving, given back once: when it has arrived, timed out or been given up. */
    public final class Reservation {
        private final String client;
        private final AtomicBoolean released = new AtomicBoolean();
        private long held;
        private long deadline;
        /** A gRPC call's bytes held from the memory budget until {@link #end}; null for a REST body. */
        private final MemoryBudget.Claim memory;

        private Reservation(String client, long declared, MemoryBudget.Claim memory) {
            this.client = client;
            this.held = declared;
            this.memory = memory;
        }

        /**
         * Holds {@code more} bytes too, as they arrive: false, holding nothing more, when the bytes of all the
         * bodies arriving would pass {@code --max-receiving-size}, or twice them the memory budget. A released place
         * grows no more (and says true).
         */
        public boolean grow(long more) {
            synchronized (ReceivingLimiter.this) {
                if (released.get()) {
                    return true;
                }
                if (bytes + more > maxBytes) {
                    return false;
                }
                if (memory != null && !memory.grow(2 * more)) {
                    return false;
                }
                bytes += more;
                held += more;
                return true;
            }
        }

        /**
         * Holds {@code less} bytes fewer (a stream's message has been taken from what is arriving), and their memory;
         * never below nothing.
         */
        public void shrink(long less) {
            synchronized (ReceivingLimiter.this) {
                if (released.get()) {
                    return;
                }
                long given = Math.min(less, held);
                bytes -= given;
                held -= given;
                if (memory != null) {
                    memory.shrinkTo(memory.held() - 2 * given);
                }
            }
        }

        /**
         * The call is over (answered, failed, or its client gone): gives back the place if it still holds it, and the
         * memory its message held; again is harmless.
         */
        public void end() {
            release();
            if (memory != null) {
                memory.close();
            }
        }

        /** Gives the place back (again is harmless) and stops its deadline. */
        public void release() {
            if (released.compareAndSet(false, true)) {
                vertx.cancelTimer(deadline);
                ReceivingLimiter.this.release(this);
            }
        }
    }

    /**
     * Reserves a place for a gRPC call from {@code client} whose message must arrive within {@code --body-timeout-ms}
     * (past it the place is given back and {@code timedOut} runs). It holds no bytes at first: {@link Reservation#grow}
     * adds those that arrive. Null when the bounds are reached, {@code --max-receiving-per-client} included.
     */
    public Reservation reserveGrowing(String client, Runnable timedOut) {
        return reserve(client, 0, timedOut);
    }

    /**
     * Reserves a place for a gRPC stream from {@code client} for as long as it is open: no deadline (the stream has its
     * idle timeout), its bytes grown as they arrive and {@link Reservation#shrink shrunk} as its messages are taken, so
     * all the streams' unread bytes count within {@code --max-receiving-size} and the memory budget, and each stream is
     * one of its client's {@code --max-receiving-per-client}. Null when the bounds are reached.
     */
    public Reservation reserveStream(String client) {
        if (!reserve(client, 0)) {
            return null;
        }
        return new Reservation(client, 0, budget.claim(MemoryBudget.Kind.REQUEST, 0));
    }

    /**
     * Reserves a place for a body of {@code declared} bytes (a REST body, from its Content-Length), from
     * {@code client} (null: not bounded per client), that must arrive within {@code --body-timeout-ms}: past it the
     * place is given back and {@code timedOut} runs. Null when the bounds are reached.
     */
    private Reservation reserve(String client, long declared, Runnable timedOut) {
        if (!reserve(client, declared)) {
            return null;
        }
        Reservation place = new Reservation(client, declared,
                client != null ? budget.claim(MemoryBudget.Kind.REQUEST, 0) : null);
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

    private synchronized boolean reserve(String client, long declared) {
        if (count >= maxCount || bytes + declared > maxBytes
                || (client != null && perClient.getOrDefault(client, 0) >= maxPerClient)) {
            return false;
        }
        count++;
        bytes += declared;
        if (client != null) {
            perClient.merge(client, 1, Integer::sum);
        }
        return true;
    }

    private synchronized void release(Reservation place) {
        count--;
        bytes -= place.held;
        if (place.client != null) {
            perClient.computeIfPresent(place.client, (key, calls) -> calls > 1 ? calls - 1 : null);
        }
    }

    /** How long a body may take to arrive ({@code --body-timeout-ms}). */
    public Duration timeout() {
        return timeout;
    }

    /** The most calls one client address may have receiving ({@code --max-receiving-per-client}). */
    public int maxPerClient() {
        return maxPerClient;
    }

    /** The memory budget the bodies are admitted against. */
    MemoryBudget budget() {
        return budget;
    }

    /** Requests whose body is still arriving. */
    synchronized int receiving() {
        return count;
    }
}
