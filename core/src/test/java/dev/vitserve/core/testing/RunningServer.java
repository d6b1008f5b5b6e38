package dev.vitserve.core.testing;

import dev.vitserve.core.VitServer;
import dev.vitserve.core.config.ServerConfig;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A vitserve started in the test's JVM on a free port, with a web client pointed at it. */
public final class RunningServer implements AutoCloseable {

    public final VitServer server;
    public final WebClient client;
    private final Vertx vertx;

    private RunningServer(Vertx vertx, VitServer server) {
        this.vertx = vertx;
        this.server = server;
        this.client = WebClient.create(vertx, new WebClientOptions()
                .setDefaultHost("127.0.0.1").setDefaultPort(server.port()),
                new PoolOptions().setHttp1MaxSize(64));
    }

    /** Starts the tiny fixture model on the given backend with extra flags. */
    public static RunningServer start(Vertx vertx, String backend, String... extraArgs) throws Exception {
        return startModel(vertx, Fixtures.tinyVit(), backend, extraArgs);
    }

    /** Starts a model folder on the given backend with extra flags. */
    public static RunningServer startModel(Vertx vertx, java.nio.file.Path model, String backend, String... extraArgs)
            throws Exception {
        List<String> args = new ArrayList<>(List.of("--model", model.toString(), "--backend", backend,
                "--host", "127.0.0.1", "--port", "0"));
        args.addAll(List.of(extraArgs));
        ServerConfig config = ServerConfig.fromArgs(java.util.Map.of(), args.toArray(String[]::new));
        return new RunningServer(vertx, VitServer.start(vertx, config).await(60, TimeUnit.SECONDS));
    }

    /** Posts the bytes as the raw body. */
    public HttpResponse<Buffer> postImage(String uri, byte[] bytes, String contentType) throws Exception {
        return client.post(uri).putHeader("Content-Type", contentType).sendBuffer(Buffer.buffer(bytes))
                .await(60, TimeUnit.SECONDS);
    }

    public HttpResponse<Buffer> get(String uri) throws Exception {
        return client.get(uri).send().await(60, TimeUnit.SECONDS);
    }

    public int port() {
        return server.port();
    }

    @Override
    public void close() {
        try {
            client.close();
            server.close().await(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("could not stop the server", e);
        }
    }
}
