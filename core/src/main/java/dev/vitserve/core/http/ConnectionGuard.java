package dev.vitserve.core.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Bounds the open connections of every listener together (API, gRPC, management), overall
 * ({@code --max-connections}) and per client address ({@code --max-connections-per-client}), so that a
 * flood of connections cannot use up the process's file descriptors. A connection is counted from
 * the moment it is accepted ({@link #admit}, called by {@link ListenerTransport} before Netty sets the
 * connection up), before any TLS handshake or HTTP/2 preface. A connection past a client's bound is
 * closed as it arrives; past the overall bound the connection idle longest (no request in progress,
 * or still in its handshake) is closed to make room, so health checks and real clients still get in,
 * and only when every connection is busy is the new one closed. A connection whose TLS handshake or
 * HTTP/2 preface is not done within {@link #HANDSHAKE_DEADLINE} is closed; connections idle without
 * a request are closed after {@link #IDLE}, and after {@link #IDLE_UNDER_PRESSURE} once three quarters
 * of the bound are in use, whatever they trickle.
 */
final class ConnectionGuard {

    static final Duration IDLE = Duration.ofSeconds(120);
    static final Duration IDLE_UNDER_PRESSURE = Duration.ofSeconds(5);
    /** How long a connection may take from accept to a usable HTTP connection (TLS handshake, HTTP/2 preface). */
    static final Duration HANDSHAKE_DEADLINE = Duration.ofSeconds(10);
    private static final AttributeKey<Open> OPEN = AttributeKey.valueOf("vitserve.connectionGuard");

    /** One open connection: its client address, its requests in progress, and since when it is idle. */
    private static final class Open {
        final Channel channel;
        final String address;
        final long accepted = System.nanoTime();
        boolean established;
        boolean released;
        int requests;
        long idleSince = accepted;

        Open(Channel channel, String address) {
            this.channel = channel;
            this.address = address;
        }
    }

    private final Vertx vertx;
    private final long sweep;
    private final int max;
    private final int perClient;
    private int open;
    private final Map<String, Integer> perAddress = new HashMap<>();
    /** The connections without a request in progress (those in their handshake included), the longest idle first. */
    private final LinkedHashSet<Open> idle = new LinkedHashSet<>();
    /** The connections whose TLS handshake or HTTP/2 preface is not done yet, the oldest first. */
    private final LinkedHashSet<Open> pending = new LinkedHashSet<>();
    private final Counter closedClientLimit;
    private final Counter closedFull;
    private final Counter closedIdle;
    private final Counter closedHandshake;

    ConnectionGuard(Vertx vertx, int max, int perClient, MeterRegistry metrics) {
        this.max = max;
        this.perClient = perClient;
        Gauge.builder("vitserve.connections.open", this, ConnectionGuard::openConnections)
                .description("Open connections of every listener, counted from accept").register(metrics);
        closedClientLimit = closed(metrics, "client_limit");
        closedFull = closed(metrics, "server_full");
        closedIdle = closed(metrics, "idle");
        closedHandshake = closed(metrics, "handshake_deadline");
        this.vertx = vertx;
        this.sweep = vertx.setPeriodic(1000, id -> closeLate());
    }

    /** Stops closing idle connections (the server is stopping). */
    void close() {
        vertx.cancelTimer(sweep);
    }

    private static Counter closed(MeterRegistry metrics, String reason) {
        return Counter.builder("vitserve.connections.closed").tag("reason", reason)
                .description("Connections the server closed to stay within its connection bounds").register(metrics);
    }

    /**
     * Counts a connection just accepted (not yet registered with its event loop), and makes room for it
     * by closing the longest idle one when the overall bound is reached; false when it must be refused
     * (its client is at its bound, or every connection is busy): it is then not counted.
     */
    synchronized boolean admit(Channel channel) {
        String address = address(channel.remoteAddress());
        if (perAddress.getOrDefault(address, 0) >= perClient) {
            closedClientLimit.increment();
            return false;
        }
        if (open >= max) {
            Iterator<Open> longest = idle.iterator();
            if (!longest.hasNext()) {
                closedFull.increment();
                return false;
            }
            Open oldest = longest.next();
            release(oldest);
            closedFull.increment();
            oldest.channel.close();
        }
        Open added = new Open(channel, address);
        channel.attr(OPEN).set(added);
        open++;
        perAddress.merge(address, 1, Integer::sum);
        idle.add(added);
        pending.add(added);
        channel.closeFuture().addListener(closed -> released(added));
        return true;
    }

    /**
     * The connection's TLS handshake and HTTP/2 preface are done: it is an HTTP connection from now on.
     * One accepted before its listener's hook was in place (in the moment after it bound) is counted now.
     */
    void connected(HttpConnection connection) {
        Channel channel = channelOf(connection);
        if (channel == null) {
            return;
        }
        if (channel.attr(OPEN).get() == null && !admit(channel)) {
            connection.close();
            return;
        }
        synchronized (this) {
            Open known = channel.attr(OPEN).get();
            if (known != null) {
                known.established = true;
                pending.remove(known);
            }
        }
    }

    /**
     * A request begins on the connection: it is busy until the returned action runs (it runs its work
     * once, however often it is called).
     */
    Runnable requestBegun(HttpConnection connection) {
        Channel channel = channelOf(connection);
        Open busy = channel == null ? null : channel.attr(OPEN).get();
        if (busy == null) {
            return () -> { };
        }
        synchronized (this) {
            busy.requests++;
            idle.remove(busy);
        }
        AtomicBoolean ended = new AtomicBoolean();
        return () -> {
            if (ended.compareAndSet(false, true)) {
                requestEnded(busy);
            }
        };
    }

    private synchronized void requestEnded(Open connection) {
        if (connection.requests > 0 && --connection.requests == 0 && !connection.released) {
            connection.idleSince = System.nanoTime();
            idle.add(connection);
        }
    }

    private synchronized void released(Open connection) {
        release(connection);
    }

    /** No longer counted (closed, or being closed by the guard); only the first call counts. */
    private void release(Open connection) {
        if (!connection.released) {
            connection.released = true;
            open--;
            idle.remove(connection);
            pending.remove(connection);
            perAddress.computeIfPresent(connection.address, (address, n) -> n > 1 ? n - 1 : null);
        }
    }

    /** Closes the connections past their handshake deadline, and those idle too long. */
    private synchronized void closeLate() {
        long now = System.nanoTime();
        long deadline = HANDSHAKE_DEADLINE.toNanos();
        for (Iterator<Open> it = pending.iterator(); it.hasNext(); ) {
            Open connection = it.next();
            if (now - connection.accepted < deadline) {
                break;
            }
            it.remove();
            release(connection);
            closedHandshake.increment();
            connection.channel.close();
        }
        long limit = (open > max * 3L / 4 ? IDLE_UNDER_PRESSURE : IDLE).toNanos();
        for (Iterator<Open> it = idle.iterator(); it.hasNext(); ) {
            Open connection = it.next();
            if (now - connection.idleSince < limit) {
                break;
            }
            it.remove();
            release(connection);
            closedIdle.increment();
            connection.channel.close();
        }
    }

    synchronized int openConnections() {
        return open;
    }

    private static Channel channelOf(HttpConnection connection) {
        return connection instanceof ConnectionBase base ? base.channel() : null;
    }

    private static String address(SocketAddress remote) {
        if (remote instanceof InetSocketAddress inet) {
            return inet.getAddress() != null ? inet.getAddress().getHostAddress() : inet.getHostString();
        }
        return remote == null ? "" : remote.toString();
    }
}
