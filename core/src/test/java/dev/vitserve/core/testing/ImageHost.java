package dev.vitserve.core.testing;

import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A web server on loopback that image URLs in tests point at: {@code /images/NAME} serves a
 * fixture photo, {@code /redirect/N} redirects N times before landing on chelsea.png,
 * {@code /to?location=URL} redirects there, {@code /missing} is a 404, {@code /huge} streams more
 * bytes than any limit, {@code /declared-huge} announces a terabyte, {@code /slow} never finishes. It counts the requests it sees, so a test can prove a refused URL was
 * never fetched.
 */
public final class ImageHost implements AutoCloseable {

    public final AtomicInteger requests = new AtomicInteger();
    private final HttpServer server;
    private final String address;

    private ImageHost(HttpServer server, String address) {
        this.server = server;
        this.address = address;
    }

    public static ImageHost start(Vertx vertx) throws Exception {
        return start(vertx, "127.0.0.1");
    }

    /** Starts on another loopback address, e.g. 127.0.0.2 for a canary. */
    public static ImageHost start(Vertx vertx, String address) throws Exception {
        AtomicInteger[] counter = new AtomicInteger[1];
        HttpServer server = vertx.createHttpServer().requestHandler(request -> {
            counter[0].incrementAndGet();
            request.response().exceptionHandler(ignored -> { });
            String path = request.path();
            if (path.startsWith("/images/")) {
                byte[] bytes = Fixtures.bytes(Fixtures.image(path.substring("/images/".length())));
                request.response().putHeader("Content-Type", "text/plain").end(Buffer.buffer(bytes));
            } else if (path.equals("/to")) {
                request.response().setStatusCode(302).putHeader("Location", request.getParam("location")).end();
            } else if (path.equals("/declared-huge")) {
                request.response().putHeader("Content-Length", String.valueOf(1L << 40)).write("x");
            } else if (path.startsWith("/redirect/")) {
                int left = Integer.parseInt(path.substring("/redirect/".length()));
                request.response().setStatusCode(302)
                        .putHeader("Location", left <= 1 ? "/images/chelsea.png" : "/redirect/" + (left - 1)).end();
            } else if (path.equals("/huge")) {
                request.response().setChunked(true);
                Buffer chunk = Buffer.buffer(new byte[64 * 1024]);
                for (int i = 0; i < 64; i++) {
                    request.response().write(chunk);
                }
                request.response().end();
            } else if (path.equals("/slow")) {
                request.response().setChunked(true).write("partial");
            } else {
                request.response().setStatusCode(404).end("no");
            }
        });
        server.listen(0, address).await(10, TimeUnit.SECONDS);
        ImageHost host = new ImageHost(server, address);
        counter[0] = host.requests;
        return host;
    }

    /** The URL of a path on this server. */
    public String url(String path) {
        return "http://" + address + ":" + server.actualPort() + path;
    }

    public int port() {
        return server.actualPort();
    }

    @Override
    public void close() {
        try {
            server.close().await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("could not stop the server", e);
        }
    }
}
