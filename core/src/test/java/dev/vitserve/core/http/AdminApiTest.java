package dev.vitserve.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.metrics.ServerMetrics;
import dev.vitserve.core.testing.FakeBackendProvider;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import dev.vitserve.testkit.Concurrently;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The management API: load, unload, reload and their clear refusals, on its own port behind its own key. */
class AdminApiTest {

    static final String KEY = "admin-key-0123456789";

    @TempDir
    Path dir;

    private Vertx vertx;
    private RunningServer server;
    private WebClient admin;
    private byte[] photo;

    @BeforeEach
    void start() throws Exception {
        vertx = ServerMetrics.newVertx();
        server = RunningServer.start(vertx, "fake", "--admin-port", "0", "--admin-api-key", KEY, "--max-models", "3",
                "--admin-model-roots", Fixtures.root() + "," + dir,
                // normal priority: on a machine busy with other work, idle-priority preprocessing would crawl
                "--preprocess-priority", "normal");
        admin = WebClient.create(vertx);
        photo = Fixtures.bytes(Fixtures.image("coffee.jpg"));
    }

    @AfterEach
    void stop() {
        FakeBackendProvider.openGate = null;
        admin.close();
        server.close();
        vertx.close().await();
    }

    private HttpResponse<Buffer> call(HttpMethod method, String path, JsonObject body, String key) throws Exception {
        var request = admin.request(method, server.server.adminPort(), "127.0.0.1", path);
        if (key != null) {
            request.putHeader("Authorization", "Bearer " + key);
        }
        return (body == null ? request.send() : request.sendJsonObject(body)).await(30, TimeUnit.SECONDS);
    }

    private HttpResponse<Buffer> call(HttpMethod method, String path, JsonObject body) throws Exception {
        return call(method, path, body, KEY);
    }

    private static String errorCode(HttpResponse<Buffer> response, int status) {
        assertEquals(status, response.statusCode(), response.bodyAsString());
        return response.bodyAsJsonObject().getJsonObject("error").getString("code");
    }

    /** Polls the public description until the model is in the state (or gone, for null). */
    private JsonObject awaitState(String name, String state) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            HttpResponse<Buffer> response = server.get("/v1/models/" + name);
            if (state == null ? response.statusCode() == 404
                    : response.statusCode() == 200 && state.equals(response.bodyAsJsonObject().getString("state"))
                    && !response.bodyAsJsonObject().getBoolean("reloading")) {
                return response.statusCode() == 200 ? response.bodyAsJsonObject() : null;
            }
            Thread.sleep(50);
        }
        throw new AssertionError(name + " never reached " + state + ": " + server.get("/v1/models/" + name).bodyAsString());
    }

    @Test
    void loadUnloadAndReloadAModel() throws Exception {
        HttpResponse<Buffer> accepted = call(HttpMethod.POST, "/admin/models",
                new JsonObject().put("name", "shapes/a").put("model", Fixtures.model("vit-shape-a").toString())
                        .put("max-queue", 5));
        assertEquals(202, accepted.statusCode(), accepted.bodyAsString());
        assertEquals("/admin/models/shapes/a", accepted.getHeader("Location"));
        assertEquals("/v1/models/shapes/a", accepted.bodyAsJsonObject().getString("watch_public"));
        JsonObject ready = awaitState("shapes/a", "ready");
        assertEquals(5, ready.getInteger("max_queue"));
        HttpResponse<Buffer> classified = server.postImage("/v1/models/shapes/a/classify?top_k=100", photo, "image/jpeg");
        assertEquals(7, classified.bodyAsJsonObject().getJsonArray("results").getJsonObject(0)
                .getJsonArray("predictions").size());
        assertTrue(server.get("/metrics").bodyAsString().contains("vitserve_models_loaded 2.0"));

        HttpResponse<Buffer> reload = call(HttpMethod.POST, "/admin/models/shapes%2Fa/reload",
                new JsonObject().put("max-queue", 9));
        assertEquals(202, reload.statusCode(), reload.bodyAsString());
        assertEquals(9, awaitState("shapes/a", "ready").getInteger("max_queue"));

        assertEquals(202, call(HttpMethod.DELETE, "/admin/models/shapes/a", null).statusCode());
        awaitState("shapes/a", null);
        String metrics = server.get("/metrics").bodyAsString();
        assertFalse(metrics.contains("model=\"shapes/a\""), "an unloaded model's series go with it");
        assertTrue(metrics.contains("vitserve_models_loaded 1.0"));
        assertEquals(200, server.postImage("/v1/classify", photo, "image/jpeg").statusCode(), "the default model goes on");
    }

    @Test
    void refusalsAreClear4xxJsonErrors() throws Exception {
        assertEquals("unauthorized", errorCode(call(HttpMethod.GET, "/admin/models", null, null), 401));
        assertEquals("unauthorized", errorCode(call(HttpMethod.GET, "/admin/models", null, "wrong-key-0123456789"), 401));
        assertEquals("unauthorized", errorCode(call(HttpMethod.POST, "/admin/models",
                new JsonObject().put("model", "org/x"), null), 401));
        assertEquals(3, call(HttpMethod.GET, "/admin/models", null).bodyAsJsonObject().getInteger("max_models"));

        assertEquals("model_exists", errorCode(call(HttpMethod.POST, "/admin/models",
                new JsonObject().put("model", Fixtures.tinyVit().toString())), 409));
        Path bert = Files.createDirectories(dir.resolve("bert"));
        Files.writeString(bert.resolve("config.json"), "{\"architectures\": [\"BertForSequenceClassification\"], "
                + "\"model_type\": \"bert\"}");
        HttpResponse<Buffer> notVit = call(HttpMethod.POST, "/admin/models", new JsonObject().put("model", bert.toString()));
        assertEquals("invalid_model", errorCode(notVit, 400));
        assertTrue(notVit.bodyAsString().contains("architectures [BertForSequenceClassification] (model_type 'bert')"
                + " is not supported"), notVit.bodyAsString());
        assertEquals("invalid_model", errorCode(call(HttpMethod.POST, "/admin/models",
                new JsonObject().put("model", dir.resolve("none").toString())), 400));
        assertEquals("missing_field", errorCode(call(HttpMethod.POST, "/admin/models", new JsonObject()), 400));
        assertEquals("invalid_parameter", errorCode(call(HttpMethod.POST, "/admin/models",
                new JsonObject().put("model", "org/x").put("colour", "blue")), 400));
        for (String setting : new String[] {"max-queue", "max-batch", "max-batch-delay-ms", "threads"}) {
            HttpResponse<Buffer> tooBig = call(HttpMethod.POST, "/admin/models", new JsonObject().put("name", "big")
                    .put("model", Fixtures.model("vit-shape-a").toString()).put(setting, 999_999_999));
            assertEquals("invalid_parameter", errorCode(tooBig, 400));
            assertTrue(tooBig.bodyAsString().contains("model setting '" + setting + "' must be a whole number from "),
                    tooBig.bodyAsString());
        }
        assertEquals(404, server.get("/v1/models/big").statusCode(), "nothing loaded");
        // outside --admin-model-roots: the same words whether the folder exists or not, and nothing read from it
        Path outside = Files.createTempDirectory("outside-roots");
        Files.writeString(outside.resolve("config.json"), "secret-token {");
        for (String model : new String[] {outside.toString(), outside.resolve("missing").toString(), "/etc",
                "../../" + outside.getFileName(), dir + "/../" + outside.getFileName()}) {
            HttpResponse<Buffer> refused = call(HttpMethod.POST, "/admin/models", new JsonObject().put("name", "out")
                    .put("model", model));
            assertEquals("invalid_model", errorCode(refused, 400));
            String message = refused.bodyAsJsonObject().getJsonObject("error").getString("message");
            assertEquals("model '" + model + "' is neither a Hugging Face Hub id nor a folder within the folders the"
                    + " management API may load from (--admin-model-roots: " + Fixtures.root() + ", " + dir + ")", message);
        }
        for (HttpResponse<Buffer> revision : List.of(
                call(HttpMethod.POST, "/admin/models/tiny-vit/reload", new JsonObject().put("revision", "v2")),
                call(HttpMethod.POST, "/admin/models", new JsonObject().put("name", "rev")
                        .put("model", Fixtures.model("vit-shape-a").toString()).put("revision", "v2")))) {
            assertEquals("invalid_model", errorCode(revision, 400));
            String message = revision.bodyAsJsonObject().getJsonObject("error").getString("message");
            assertTrue(message.contains("is the local folder") && message.contains("Hugging Face Hub ids only"), message);
        }
        assertEquals("main", server.get("/v1/models/tiny-vit").bodyAsJsonObject().getString("revision"),
                "the refused reload changed nothing");
        assertEquals("unknown_model", errorCode(call(HttpMethod.DELETE, "/admin/models/nope", null), 404));
        assertEquals("unknown_model", errorCode(call(HttpMethod.POST, "/admin/models/nope/reload", null), 404));
        assertEquals("default_model", errorCode(call(HttpMethod.DELETE, "/admin/models/tiny-vit", null), 409));

        FakeBackendProvider.openGate = new CountDownLatch(1);
        assertEquals(202, call(HttpMethod.POST, "/admin/models",
                new JsonObject().put("name", "held").put("model", Fixtures.model("vit-shape-b").toString())).statusCode());
        assertEquals("loading", server.get("/v1/models/held").bodyAsJsonObject().getString("state"));
        assertEquals("not_ready", errorCode(server.postImage("/v1/models/held/classify", photo, "image/jpeg"), 503));
        assertEquals("model_busy", errorCode(call(HttpMethod.DELETE, "/admin/models/held", null), 409));
        assertEquals("model_busy", errorCode(call(HttpMethod.POST, "/admin/models/held/reload", null), 409));
        assertEquals(202, call(HttpMethod.POST, "/admin/models", new JsonObject().put("name", "third")
                .put("model", Fixtures.model("vit-shape-a").toString())).statusCode(), "queued behind the load under way");
        assertEquals("too_many_models", errorCode(call(HttpMethod.POST, "/admin/models",
                new JsonObject().put("name", "fourth").put("model", Fixtures.model("vit-shape-a").toString())), 409));
        assertEquals(200, server.postImage("/v1/classify", photo, "image/jpeg").statusCode(), "nothing else affected");
        FakeBackendProvider.openGate.countDown();
        awaitState("held", "ready");
        awaitState("third", "ready");
        assertEquals(200, server.postImage("/v1/models/held/classify", photo, "image/jpeg").statusCode());
    }

    @Test
    void loadUnloadAndReloadUnderLoadFailNotOneRequest() throws Exception {
        assertEquals(202, call(HttpMethod.POST, "/admin/models", new JsonObject().put("name", "b")
                .put("model", Fixtures.model("vit-shape-b").toString())).statusCode());
        awaitState("b", "ready");
        FakeBackendProvider.inferDelayMs = 5;
        AtomicBoolean done = new AtomicBoolean();
        Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
        AtomicInteger answered = new AtomicInteger();
        try {
            Concurrently.run(5, thread -> () -> {
                if (thread == 4) {
                    try {
                        churn();
                    } finally {
                        done.set(true);
                    }
                    return null;
                }
                String route = thread % 2 == 0 ? "/v1/models/tiny-vit/classify" : "/v1/models/b/classify";
                while (!done.get()) {
                    HttpResponse<Buffer> response = server.postImage(route, photo, "image/jpeg");
                    statuses.computeIfAbsent(response.statusCode(), code -> new AtomicInteger()).incrementAndGet();
                    answered.incrementAndGet();
                }
                return null;
            });
        } finally {
            FakeBackendProvider.inferDelayMs = 0;
        }
        assertEquals(Map.of(200, answered.get()), Map.copyOf(statuses.entrySet().stream()
                .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> e.getValue().get()))),
                "every request of the 4 clients answered 200");
        assertTrue(answered.get() >= 40, "the clients were busy throughout: " + answered.get() + " answers");
    }

    /** Reloads b twice (the second time with new settings), loads c, then unloads it, each to its end. */
    private void churn() throws Exception {
        Thread.sleep(300);
        for (JsonObject changes : new JsonObject[] {null, new JsonObject().put("max-queue", 32)}) {
            assertEquals(202, call(HttpMethod.POST, "/admin/models/b/reload", changes).statusCode());
            awaitState("b", "ready");
            Thread.sleep(300);
        }
        assertEquals(202, call(HttpMethod.POST, "/admin/models", new JsonObject().put("name", "c")
                .put("model", Fixtures.model("vit-shape-a").toString())).statusCode());
        awaitState("c", "ready");
        assertEquals(202, call(HttpMethod.DELETE, "/admin/models/c", null).statusCode());
        awaitState("c", null);
        Thread.sleep(300);
    }
}
