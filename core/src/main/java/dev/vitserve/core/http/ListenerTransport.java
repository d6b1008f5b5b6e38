package dev.vitserve.core.http;

import dev.vitserve.core.config.ServerConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ServerChannel;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import java.lang.reflect.Field;
import java.util.Collections;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.TimeUnit;

/**
 * How every listener of the server is built: the API, the management API and gRPC, with TLS or
 * without, and any listener added later. A listener made here gets, by construction:
 * <ul>
 * <li>the one {@link ConnectionGuard} of the process: its connections counted with every other
 * listener's, overall and per client address, from the moment they are accepted (before a TLS
 * handshake or an HTTP/2 preface), with a deadline for the handshake and preface;</li>
 * <li>the {@link StrictRequestDecoder} on every HTTP/1.x connection (Content-Length with
 * Transfer-Encoding refused, nothing after a refused request read as another), also on a clear-text
 * listener that takes HTTP/2 with prior knowledge;</li>
 * <li>JSON answers for requests the HTTP decoder refuses ({@link ErrorResponses#invalidRequest});</li>
 * <li>the access log, for requests refused before routing too, and request ids;</li>
 * <li>the idle timeout, and TLS ({@code --tls-cert}) kept current on certificate reloads.</li>
 * </ul>
 * A listener with a {@link Router} takes one from {@link #router()}, which already counts its
 * requests against their connection and logs them; {@link #listen} refuses any other router.
 */
public final class ListenerTransport {

    /** Seconds a connection may stay without reading or writing anything (Vert.x's idle timeout). */
    static final int IDLE_TIMEOUT_SECONDS = 120;
    private static final String ACCEPT_HANDLER = "vitserve.accept";

    private final Vertx vertx;
    private final ConnectionGuard guard;
    private final AccessLog accessLog;
    private final ListenerTls tls;
    private final Set<Router> routers = Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

    /** The transport of a server's listeners; {@code tls} null for plain HTTP. */
    public ListenerTransport(Vertx vertx, ServerConfig config, MeterRegistry metrics, ListenerTls tls) {
        this.vertx = vertx;
        this.tls = tls;
        this.guard = new ConnectionGuard(vertx, config.maxConnections(), config.maxConnectionsPerClient(), metrics);
        this.accessLog = new AccessLog(config.accessLog());
    }

    /** Whether the listeners use TLS. */
    public boolean tls() {
        return tls != null;
    }

    /**
     * A router for a listener: its first handlers count each request against its connection (a
     * connection with a request in progress is not idle) and give it its request id and access line.
     */
    public Router router() {
        Router router = Router.router(vertx);
        router.route().handler(ctx -> {
            Runnable ended = guard.requestBegun(ctx.request().connection());
            ctx.addEndHandler(done -> ended.run());
            ctx.next();
        });
        router.route().handler(accessLog);
        routers.add(router);
        return router;
    }

    /** Listens with a router made by {@link #router()}. */
    public Future<HttpServer> listen(String name, HttpServerOptions options, String host, int port, Router router) {
        if (!routers.contains(router)) {
            throw new IllegalArgumentException("the " + name + " listener's router is not one of ListenerTransport.router()");
        }
        return bind(name, options, host, port, router);
    }

    /**
     * Listens with a handler of its own (gRPC's): each request counts against its connection and has its
     * access line, until its answer ends or its connection closes.
     */
    public Future<HttpServer> listen(String name, HttpServerOptions options, String host, int port,
                                     Handler<HttpServerRequest> handler) {
        return bind(name, options, host, port, request -> {
            Runnable ended = guard.requestBegun(request.connection());
            Runnable logged = accessLog.begin(request);
            Handler<Void> end = done -> {
                ended.run();
                logged.run();
            };
            request.response().endHandler(end).closeHandler(end);
            handler.handle(request);
        });
    }

    private Future<HttpServer> bind(String name, HttpServerOptions given, String host, int port,
                                    Handler<HttpServerRequest> requests) {
        HttpServerOptions options = (tls != null ? tls.apply(given) : given)
                .setIdleTimeout(IDLE_TIMEOUT_SECONDS).setIdleTimeoutUnit(TimeUnit.SECONDS)
                .setSslHandshakeTimeout(ConnectionGuard.HANDSHAKE_DEADLINE.toMillis())
                .setSslHandshakeTimeoutUnit(TimeUnit.MILLISECONDS);
        HttpServer server = vertx.createHttpServer(options);
        server.connectionHandler(connection -> {
            StrictRequestDecoder.install(connection, options);
            guard.connected(connection);
        }).invalidRequestHandler(request -> {
            Runnable logged = accessLog.begin(request);
            ErrorResponses.invalidRequest(request).onComplete(done -> logged.run());
        }).requestHandler(requests);
        return server.listen(port, host).compose(listening -> {
            try {
                ServerChannel socket = serverChannel(listening);
                // a second server sharing the port (more instances of a verticle) shares its socket and guard
                if (socket.pipeline().get(ACCEPT_HANDLER) == null) {
                    socket.pipeline().addFirst(ACCEPT_HANDLER, new Acceptor(options));
                }
            } catch (ReflectiveOperationException | RuntimeException e) {
                return listening.close().transform(closed -> Future.failedFuture(new IllegalStateException(
                        "the " + name + " listener cannot count its connections from accept (Vert.x changed?): " + e, e)));
            }
            if (tls != null) {
                tls.register(listening);
            }
            return Future.succeededFuture(listening);
        }, failure -> Future.failedFuture(bindFailure(name, host, port, failure)));
    }

    /** A port another process holds, said with the listener, its address and the flag that moves it. */
    private static Throwable bindFailure(String name, String host, int port, Throwable failure) {
        String message = String.valueOf(failure.getMessage());
        if (!(failure instanceof java.net.BindException) && !message.contains("Address already in use")) {
            return failure;
        }
        String flag = switch (name) {
            case "API" -> "--port";
            case "management" -> "--admin-port";
            case "gRPC" -> "--grpc-port";
            default -> "its port option";
        };
        return new IllegalStateException("the " + name + " listener cannot listen on " + host + ":" + port
                + ": the address is already in use (another process, or another vitserve, holds it); stop that "
                + "process or choose another port with " + flag, failure);
    }

    /** The listener is closing: no more certificate updates for it. */
    public void closed(HttpServer server) {
        if (tls != null && server != null) {
            tls.unregister(server);
        }
    }

    /** Stops the guard's timer (the server is stopping). */
    public void close() {
        guard.close();
    }

    /**
     * Sits first on the listening socket's pipeline, where Netty hands on each connection it accepts,
     * before the connection has a pipeline of its own: counts it, or closes it at once when a bound
     * refuses it (it then costs no more than its socket, for a moment).
     */
    @ChannelHandler.Sharable
    private final class Acceptor extends ChannelInboundHandlerAdapter {
        private final HttpServerOptions options;

        Acceptor(HttpServerOptions options) {
            this.options = options;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Channel child) {
                if (!guard.admit(child)) {
                    child.unsafe().closeForcibly();
                    return;
                }
                if (options.isSsl()) {
                    child.pipeline().addLast(new PlainHttpOnTls());
                } else if (options.isHttp2ClearTextEnabled()) {
                    child.pipeline().addLast(StrictRequestDecoder.beforeFirstRequest(options));
                }
            }
            ctx.fireChannelRead(msg);
        }
    }

    /**
     * The listening socket of a Vert.x HTTP server. Vert.x 5 exposes no hook before a connection's TLS
     * handshake or HTTP/2 preface ({@code connectionHandler} runs after both), so this reads its
     * internals: the TCP server inside the HTTP server, and the channel it bound.
     */
    private static ServerChannel serverChannel(HttpServer server) throws ReflectiveOperationException {
        Object tcp = field(server, "tcpServer");
        Object actual = field(tcp, "actualServer");
        Object bound = field(actual != null ? actual : tcp, "bindFuture");
        Object channel = ((Future<?>) bound).result();
        if (!(channel instanceof ServerChannel serverChannel)) {
            throw new IllegalStateException("no listening channel, found " + channel);
        }
        return serverChannel;
    }

    private static Object field(Object owner, String name) throws ReflectiveOperationException {
        for (Class<?> type = owner.getClass(); type != null; type = type.getSuperclass()) {
            try {
                Field field = type.getDeclaredField(name);
                field.setAccessible(true);
                return field.get(owner);
            } catch (NoSuchFieldException e) {
                // look in the superclass
            }
        }
        throw new NoSuchFieldException(owner.getClass().getName() + "." + name);
    }
}
