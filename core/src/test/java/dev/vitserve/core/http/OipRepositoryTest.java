package dev.vitserve.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.metrics.ServerMetrics;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Open Inference Protocol's model repository extension on the management listener: the index of
 * the models loaded and of the repository's folders, load and unload answered once done, the
 * protocol's plain errors, and the admin key.
 */
class OipRepositoryTest {

    static final String KEY = "admin-key-0123456789";

    @TempDir
    Path dir;

    private Vertx vertx;
    private RunningServer server;
    private WebClient admin;

    @BeforeEach
    void start() throws Exception {
        Path repository = Files.createDirectories(dir.resolve("repository"));
        Files.createSymbolicLink(repository.resolve("shape-a"), Fixtures.model("vit-shape-a"));
        Files.createSymbolicLink(repository.resolve("shape-b"), Fixtures.model("vit-shape-b"));
        vertx = ServerMetrics.newVertx();
        server = RunningServer.start(vertx, "fake", "--admin-port", "0", "--admin-api-key", KEY,
                "--model-repository", repository.toString(), "--preprocess-priority", "normal");
        admin = WebClient.create(vertx);
    }

    @AfterEach
    void stop() {
        admin.close();
        server.close();
        vertx.close().await();
    }

    private HttpResponse<Buffer> post(String path, String body, String key) throws Exception {
        var request = admin.post(server.server.adminPort(), "127.0.0.1", path);
        if (key != null) {
            request.putHeader("Authorization", "Bearer " + key);
        }
        return (body == null ? request.send() : request.sendBuffer(Buffer.buffer(body))).await(60, TimeUnit.SECONDS);
    }

    private JsonObject indexEntry(String body, String name) throws Exception {
        HttpResponse<Buffer> index = post("/v2/repository/index", body, KEY);
        assertEquals(200, index.statusCode(), index.bodyAsString());
        JsonArray models = index.bodyAsJsonArray();
        for (int i = 0; i < models.size(); i++) {
            if (models.getJsonObject(i).getString("name").equals(name)) {
                return models.getJsonObject(i);
            }
        }
        return null;
    }

    @Test
    void unloadThenLoadAFolderOfTheRepository() throws Exception {
        JsonObject loaded = indexEntry(null, "shape-b");
        assertEquals("READY", loaded.getString("state"), loaded.encode());
        assertEquals("1", loaded.getString("version"));
        assertEquals("READY", indexEntry("{}", "tiny-vit").getString("state"));

        HttpResponse<Buffer> unloaded = post("/v2/repository/models/shape-b/unload", null, KEY);
        assertEquals(200, unloaded.statusCode(), unloaded.bodyAsString());
        assertEquals(404, server.postImage("/v1/models/shape-b/classify", Fixtures.bytes(Fixtures.image("coffee.jpg")),
                "image/jpeg").statusCode(), "an unloaded model answers no more");
        JsonObject folder = indexEntry(null, "shape-b");
        assertEquals("UNAVAILABLE", folder.getString("state"), "the repository's folder is still listed");
        assertEquals("unloaded", folder.getString("reason"));
        assertEquals(null, indexEntry("{\"ready\": true}", "shape-b"), "ready: true lists only the models ready");

        HttpResponse<Buffer> load = post("/v2/repository/models/shape-b/load", null, KEY);
        assertEquals(200, load.statusCode(), load.bodyAsString());
        assertEquals("READY", indexEntry(null, "shape-b").getString("state"), "answered once the model is ready");
        assertEquals(200, server.postImage("/v1/models/shape-b/classify", Fixtures.bytes(Fixtures.image("coffee.jpg")),
                "image/jpeg").statusCode());

        HttpResponse<Buffer> reload = post("/v2/repository/models/shape-a/load", "{}", KEY);
        assertEquals(200, reload.statusCode(), "a load of a model loaded is a reload: " + reload.bodyAsString());
        assertEquals("READY", indexEntry(null, "shape-a").getString("state"));
    }

    @Test
    void theConfigParameterSetsTheModelsSettings() throws Exception {
        assertEquals(200, post("/v2/repository/models/shape-b/unload", null, KEY).statusCode());
        HttpResponse<Buffer> load = post("/v2/repository/models/shape-b/load",
                "{\"parameters\": {\"config\": \"{\\\"max-queue\\\": 7}\"}}", KEY);
        assertEquals(200, load.statusCode(), load.bodyAsString());
        JsonObject model = server.client.get(server.server.port(), "127.0.0.1", "/v1/models/shape-b").send()
                .await(30, TimeUnit.SECONDS).bodyAsJsonObject();
        assertEquals(7, model.getInteger("max_queue"), model.encode());

        HttpResponse<Buffer> file = post("/v2/repository/models/shape-b/load",
                "{\"parameters\": {\"file:1/model.onnx\": \"AAAA\"}}", KEY);
        assertEquals(400, file.statusCode());
        assertTrue(file.bodyAsJsonObject().getString("error").contains("--model-repository"), file.bodyAsString());
        HttpResponse<Buffer> moved = post("/v2/repository/models/shape-b/load",
                "{\"parameters\": {\"config\": \"{\\\"model\\\": \\\"/etc\\\"}\"}}", KEY);
        assertEquals(400, moved.statusCode());
        assertTrue(moved.bodyAsJsonObject().getString("error").contains("'model'"), moved.bodyAsString());
        HttpResponse<Buffer> notJson = post("/v2/repository/models/shape-b/load",
                "{\"parameters\": {\"config\": \"{threads\"}}", KEY);
        assertEquals(400, notJson.statusCode());
        assertTrue(notJson.bodyAsJsonObject().getString("error").contains("JSON object"), notJson.bodyAsString());
        assertEquals(7, server.client.get(server.server.port(), "127.0.0.1", "/v1/models/shape-b").send()
                .await(30, TimeUnit.SECONDS).bodyAsJsonObject().getInteger("max_queue"), "a refused load changes nothing");
    }

    @Test
    void theManagementListenerAnswersTritonsHealthCalls() throws Exception {
        for (String path : List.of("/v2/health/live", "/v2/health/ready")) {
            HttpResponse<Buffer> answer = admin.get(server.server.adminPort(), "127.0.0.1", path).send()
                    .await(60, TimeUnit.SECONDS);
            assertEquals(200, answer.statusCode(), path + ": " + answer.bodyAsString());
            assertEquals(new JsonObject().put(path.endsWith("live") ? "live" : "ready", true), answer.bodyAsJsonObject());
        }
    }

    @Test
    void refusalsAreThePlainErrorsOfTheProtocol() throws Exception {
        HttpResponse<Buffer> unknown = post("/v2/repository/models/nope/load", null, KEY);
        assertEquals(404, unknown.statusCode());
        assertTrue(unknown.bodyAsJsonObject().getString("error").contains("--model-repository"), unknown.bodyAsString());

        HttpResponse<Buffer> traversal = post("/v2/repository/models/..%2Frepository%2Fshape-a/load", null, KEY);
        assertEquals(404, traversal.statusCode(), "only the repository's own folders load: " + traversal.bodyAsString());

        HttpResponse<Buffer> unloadUnknown = post("/v2/repository/models/nope/unload", null, KEY);
        assertEquals(404, unloadUnknown.statusCode());
        assertTrue(unloadUnknown.bodyAsJsonObject().containsKey("error"));

        HttpResponse<Buffer> defaultModel = post("/v2/repository/models/tiny-vit/unload", null, KEY);
        assertEquals(409, defaultModel.statusCode(), defaultModel.bodyAsString());

        HttpResponse<Buffer> badBody = post("/v2/repository/index", "[1,", KEY);
        assertEquals(400, badBody.statusCode());
        assertTrue(badBody.bodyAsJsonObject().getString("error").contains("JSON object"));

        HttpResponse<Buffer> noKey = post("/v2/repository/index", null, null);
        assertEquals(401, noKey.statusCode());
        assertTrue(noKey.bodyAsJsonObject().containsKey("error"), noKey.bodyAsString());
        assertEquals(401, post("/v2/repository/models/shape-a/unload", null, "wrong").statusCode());
        // every refusal of this listener's /v2 routes is the protocol's {"error": "..."}, never {"error": {...}}
        for (HttpResponse<Buffer> refused : List.of(unknown, traversal, unloadUnknown, defaultModel, badBody, noKey,
                post("/v2/repository/models/shape-a/unload", null, "wrong"), post("/v2/nothing", null, KEY),
                admin.get(server.server.adminPort(), "127.0.0.1", "/v2/repository/index").send().await(60, TimeUnit.SECONDS))) {
            dev.vitserve.core.testing.PlainErrors.assertPlainError(refused, refused.statusCode());
            assertTrue(refused.statusCode() >= 400 && refused.statusCode() < 500, refused.bodyAsString());
        }
        assertEquals("READY", indexEntry(null, "shape-a").getString("state"), "a refused call changes nothing");
    }
}
