package dev.vitserve.core.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Bounds the open connections of the API and gRPC listeners together, overall ({@code --max-connections})
 * and per client address ({@code --max-connections-per-client}), so that a flood of idle connections cannot use up the
 * process's file descriptors. A connection past a client's bound is closed as it arrives; past the
 * overall bound the connection idle longest (no request in progress) is closed to make room, so
 * health checks and real clients still get in, and only when every connection is busy is the new
 * one closed. Connections idle without a request are closed after {@link #IDLE}, and after
 * {@link #IDLE_UNDER_PRESSURE} once three quarters of the bound are in use, whatever they trickle.
 */
final class ConnectionGuard {

    static final Duration IDLE = Duration.ofSeconds(120);
    static final Duration IDLE_UNDER_PRESSURE = Duration.ofSeconds(5);

    /** One open connection: its client address, its requests in progress, and since when it is idle. */
    private static final class Open {
        final HttpConnection connection;
        final String address;
        int requests;
        long idleSince = System.nanoTime();

        Open(HttpConnection connection, String address) {
            this.connection = connection;
            this.address = address;
        }
    }

    private final Vertx vertx;
    private final long sweep;
    private final int max;
    private final int perClient;
    private final Map<HttpConnection, Open> open = new HashMap<>();
    private final Map<String, Integer> perAddress = new HashMap<>();
    /** The connections without a request in progress, the longest idle first. */
    private final LinkedHashSet<Open> idle = new LinkedHashSet<>();
    private final Counter closedClientLimit;
    private final Counter closedFull;
    private final Counter closedIdle;

    ConnectionGuard(Vertx vertx, int max, int perClient, MeterRegistry metrics) {
        this.max = max;
        this.perClient = perClient;
        Gauge.builder("vitserve.connections.open", this, ConnectionGuard::openConnections)
                .description("Open HTTP connections").register(metrics);
        closedClientLimit = closed(metrics, "client_limit");
        closedFull = closed(metrics, "server_full");
        closedIdle = closed(metrics, "idle");
        this.vertx = vertx;
        this.sweep = vertx.setPeriodic(1000, id -> closeIdle());
    }

    /** Stops closing idle connections (the server is stopping). */
    void close() {
        vertx.cancelTimer(sweep);
    }

    private static Counter closed(MeterRegistry metrics, String reason) {
        return Counter.builder("vitserve.connections.closed").tag("reason", reason)
                .description("Connections the server closed to stay within its connection bounds").register(metrics);
    }

    /** Counts a new connection, and closes it or the longest idle one when a bound is passed. */
    synchronized void accepted(HttpConnection connection) {
        String address = connection.remoteAddress() == null ? "" : String.valueOf(connection.remoteAddress().hostAddress());
        Open added = new Open(connection, address);
        open.put(connection, added);
        idle.add(added);
        int fromClient = perAddress.merge(address, 1, Integer::sum);
        connection.closeHandler(closed -> closed(added));
        if (fromClient > perClient) {
            closedClientLimit.increment();
            connection.close();
        } else if (open.size() > max) {
            Open oldest = idle.iterator().next();
            if (oldest == added || oldest.requests > 0) {
                closedFull.increment();
                connection.close();
            } else {
                idle.remove(oldest);
                closedFull.increment();
                oldest.connection.close();
            }
        }
    }

    /** A route handler for every request: its connection is busy until the request ends. */
    void requestBegun(RoutingContext ctx) {
        Open connection = begun(ctx.request().connection());
        if (connection != null) {
            ctx.addEndHandler(ended -> requestEnded(connection));
        }
        ctx.next();
    }

    /** For a request that does not come through the router (a gRPC call): its connection is busy until it ends. */
    void requestBegun(HttpServerRequest request) {
        Open connection = begun(request.connection());
        if (connection != null) {
            AtomicBoolean ended = new AtomicBoolean();
            Handler<Void> end = done -> {
                if (ended.compareAndSet(false, true)) {
                    requestEnded(connection);
                }
            };
            request.response().endHandler(end).closeHandler(end);
        }
    }

    private synchronized Open begun(HttpConnection connection) {
        Open busy = open.get(connection);
        if (busy != null) {
            busy.requests++;
            idle.remove(busy);
        }
        return busy;
    }

    private synchronized void requestEnded(Open connection) {
        if (connection.requests > 0 && --connection.requests == 0 && open.containsKey(connection.connection)) {
            connection.idleSince = System.nanoTime();
            idle.add(connection);
        }
    }

    private synchronized void closed(Open connection) {
        if (open.remove(connection.connection) != null) {
            idle.remove(connection);
            perAddress.computeIfPresent(connection.address, (address, n) -> n > 1 ? n - 1 : null);
        }
    }

    private synchronized void closeIdle() {
        long limit = (open.size() > max * 3L / 4 ? IDLE_UNDER_PRESSURE : IDLE).toNanos();
        long now = System.nanoTime();
        for (Iterator<Open> it = idle.iterator(); it.hasNext(); ) {
            Open connection = it.next();
            if (now - connection.idleSince < limit) {
                break;
            }
            it.remove();
            closedIdle.increment();
            connection.connection.close();
        }
    }

    synchronized int openConnections() {
        return open.size();
    }
}
