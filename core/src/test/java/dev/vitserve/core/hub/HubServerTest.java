package dev.vitserve.core.hub;

import static dev.vitserve.core.hub.HubTestSupport.REPO;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.VitServer;
import dev.vitserve.core.config.ServerConfig;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A whole server started with {@code --model org/tiny-vit} against the stand-in Hub. */
@Timeout(120)
class HubServerTest extends StandInHubTest {

    WebClient client;

    @BeforeEach
    void startClient() {
        client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1"));
    }

    @AfterEach
    void stopClient() {
        hub.gate = null;
        client.close();
    }

    @Test
    void servesAHubModelByItsId() throws Exception {
        FakeHub.Repo repo = support.tinyVit();
        VitServer server = VitServer.start(vertx, config()).await(60, TimeUnit.SECONDS);
        try {
            JsonObject models = get(server, "/v1/models").bodyAsJsonObject();
            assertEquals(REPO, models.getString("model"));
            assertEquals(support.repoFolder(REPO).resolve("snapshots").resolve(repo.commit).toString(),
                    models.getString("path"));
            assertEquals(10, models.getInteger("labels"));
        } finally {
            server.close().await(60, TimeUnit.SECONDS);
        }
    }

    @Test
    void isNotReadyWhileTheModelDownloads() throws Exception {
        support.tinyVit();
        Promise<Void> gate = Promise.promise();
        hub.gate = gate;
        VitServer server = VitServer.listen(vertx, config()).await(60, TimeUnit.SECONDS);
        try {
            HttpResponse<Buffer> notReady = get(server, "/health/ready");
            // past "checking model.safetensors ..." (the Hub asked for its size), into the download the gate holds
            while (!notReady.bodyAsJsonObject().getString("reason").startsWith("downloading org/tiny-vit: model.safetensors")) {
                Thread.sleep(50);
                notReady = get(server, "/health/ready");
            }
            assertEquals(503, notReady.statusCode());
            String reason = notReady.bodyAsJsonObject().getString("reason");
            assertTrue(reason.startsWith("downloading org/tiny-vit: model.safetensors 0% (0 bytes of 193.3 KB)"),
                    reason);

            gate.complete();
            server.ready().await(60, TimeUnit.SECONDS);
            assertEquals(200, get(server, "/health/ready").statusCode());
        } finally {
            server.close().await(60, TimeUnit.SECONDS);
        }
    }

    private ServerConfig config() throws Exception {
        return ServerConfig.fromArgs(support.env(), "--model", REPO, "--backend", "fake", "--host", "127.0.0.1",
                "--port", "0");
    }

    private HttpResponse<Buffer> get(VitServer server, String uri) throws Exception {
        return client.get(server.port(), "127.0.0.1", uri).send().await(30, TimeUnit.SECONDS);
    }
}
