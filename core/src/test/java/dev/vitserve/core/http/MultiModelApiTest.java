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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Two models of different shapes in one server, each through its own routes; the default through the old ones. */
class MultiModelApiTest {

    private static Vertx vertx;
    private static RunningServer server;
    private static byte[] photo;

    @BeforeAll
    static void start() throws Exception {
        vertx = ServerMetrics.newVertx();
        server = RunningServer.start(vertx, "fake", "--model", "shapes/a=" + Fixtures.model("vit-shape-a"));
        photo = Fixtures.bytes(Fixtures.image("coffee.jpg"));
    }

    @AfterAll
    static void stop() {
        server.close();
        vertx.close().await();
    }

    private static JsonArray predictions(HttpResponse<Buffer> response) {
        assertEquals(200, response.statusCode(), response.bodyAsString());
        return response.bodyAsJsonObject().getJsonArray("results").getJsonObject(0).getJsonArray("predictions");
    }

    @Test
    void eachModelAnswersThroughItsOwnRouteWithItsOwnLabels() throws Exception {
        JsonArray tiny = predictions(server.postImage("/v1/models/tiny-vit/classify?top_k=20", photo, "image/jpeg"));
        JsonArray shapeA = predictions(server.postImage("/v1/models/shapes/a/classify?top_k=20", photo, "image/jpeg"));
        assertEquals(10, tiny.size());
        assertEquals(7, shapeA.size(), "vit-shape-a has 7 labels");
        assertEquals(shapeA, predictions(server.postImage("/v1/models/shapes%2Fa/classify?top_k=20", photo, "image/jpeg")),
                "a percent-encoded name is the same model");
        assertEquals(shapeA, predictions(server.postImage("/v1/classify?model=shapes/a&top_k=20", photo, "image/jpeg")));
        assertEquals(tiny, predictions(server.postImage("/v1/classify?top_k=20", photo, "image/jpeg")),
                "the first model is the default");
        String old = server.client.post("/predict_image_class")
                .sendMultipartForm(io.vertx.ext.web.multipart.MultipartForm.create()
                        .binaryFileUpload("image", "coffee.jpg", Buffer.buffer(photo), "image/jpeg"))
                .await(60, TimeUnit.SECONDS).bodyAsJsonObject().getString("predicted_class");
        assertEquals(tiny.getJsonObject(0).getString("label"), old);
    }

    @Test
    void modelsListsEveryModelWithItsStateAndShape() throws Exception {
        JsonObject all = server.get("/v1/models").bodyAsJsonObject();
        assertEquals("tiny-vit", all.getString("default"));
        assertEquals(10, all.getInteger("labels"), "the top level still describes the default model");
        JsonArray models = all.getJsonArray("models");
        assertEquals(2, models.size());
        String description = models.getJsonObject(0).getString("description");
        assertTrue(description != null && description.contains("random-weight") && description.contains("mean nothing"),
                "the quick-start model's card says what it is: " + description);
        JsonObject shapeA = models.getJsonObject(1);
        assertEquals("shapes/a", shapeA.getString("name"));
        assertEquals("ready", shapeA.getString("state"));
        assertEquals(64, shapeA.getJsonObject("image_size").getInteger("height"));
        assertEquals(48, shapeA.getInteger("hidden_size"));
        assertEquals("tabby cat", shapeA.getJsonArray("label_names").getString(0));
        assertEquals("fake", shapeA.getString("backend"));
        assertTrue(shapeA.containsKey("description") && shapeA.getValue("description") == null, "no card, no description");
        assertTrue(shapeA.getLong("weights_bytes") > 0);
        assertEquals(shapeA, server.get("/v1/models/shapes/a").bodyAsJsonObject());
        assertEquals(shapeA, server.get("/v1/models/shapes%2Fa").bodyAsJsonObject());
    }

    @Test
    void anUnknownModelIs404NamingTheModelsThatExist() throws Exception {
        for (HttpResponse<Buffer> response : new HttpResponse[] {
            server.postImage("/v1/models/nope/classify", photo, "image/jpeg"),
            server.postImage("/v1/classify?model=nope", photo, "image/jpeg"),
            server.get("/v1/models/nope")}) {
            assertEquals(404, response.statusCode());
            JsonObject error = response.bodyAsJsonObject().getJsonObject("error");
            assertEquals("unknown_model", error.getString("code"));
            assertTrue(error.getString("message").contains("this server serves tiny-vit, shapes/a"), error.getString("message"));
        }
    }

    @Test
    void metricsCarryTheModelLabel() throws Exception {
        predictions(server.postImage("/v1/models/shapes/a/classify", photo, "image/jpeg"));
        server.postImage("/v1/models/" + "x".repeat(50) + "/classify", photo, "image/jpeg");
        String metrics = server.get("/metrics").bodyAsString();
        assertTrue(metrics.contains("vitserve_inference_seconds_count{model=\"shapes/a\"}"), metrics);
        assertTrue(metrics.contains("vitserve_inference_seconds_count{model=\"tiny-vit\"}"));
        assertTrue(metrics.contains("vitserve_models_loaded 2.0"));
        assertTrue(!metrics.contains("xxxxxxxxxx"), "a name from a request never becomes a label");
    }
}
