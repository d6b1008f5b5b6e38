package dev.vitserve.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import io.vertx.junit5.VertxExtension;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The shapes of {@code POST /v1/classify} a client relies on, with the test-only backend. */
@ExtendWith(VertxExtension.class)
class ClassifyApiTest {

    static RunningServer server;

    @BeforeAll
    static void start(Vertx vertx) throws Exception {
        server = RunningServer.start(vertx, "fake");
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void rawBodyGivesOneResultWithTopFiveAndTimings() throws Exception {
        HttpResponse<Buffer> response = server.postImage("/v1/classify",
                Fixtures.bytes(Fixtures.image("chelsea.png")), "image/png");
        assertEquals(200, response.statusCode(), response.bodyAsString());
        JsonObject body = response.bodyAsJsonObject();
        assertEquals("fake", body.getString("backend"));
        assertEquals("cpu", body.getString("device"));
        assertEquals("tiny-vit", body.getString("model"));
        JsonArray results = body.getJsonArray("results");
        assertEquals(1, results.size());
        JsonObject result = results.getJsonObject(0);
        assertNull(result.getValue("name"));
        JsonArray predictions = result.getJsonArray("predictions");
        assertEquals(5, predictions.size());
        double previous = Double.MAX_VALUE;
        for (Object p : predictions) {
            double score = ((JsonObject) p).getDouble("score");
            assertTrue(score <= previous, "sorted by score");
            previous = score;
        }
        JsonObject timings = result.getJsonObject("timing_ms");
        for (String step : new String[] {"decode", "preprocess", "inference", "total"}) {
            assertTrue(timings.getDouble(step) >= 0, step);
        }
        assertTrue(timings.getDouble("total") >= timings.getDouble("inference"));
    }

    @Test
    void multipartGivesOneResultPerFileInOrderNamedByFile() throws Exception {
        MultipartForm form = MultipartForm.create()
                .binaryFileUpload("first", "coffee.jpg", Buffer.buffer(Fixtures.bytes(Fixtures.image("coffee.jpg"))), "image/jpeg")
                .binaryFileUpload("anything", "chelsea.png", Buffer.buffer(Fixtures.bytes(Fixtures.image("chelsea.png"))), "image/png")
                .binaryFileUpload("x", "coffee-again.jpg", Buffer.buffer(Fixtures.bytes(Fixtures.image("coffee.jpg"))), "image/jpeg");
        HttpResponse<Buffer> response = server.client.post("/v1/classify").sendMultipartForm(form).await(60, TimeUnit.SECONDS);
        assertEquals(200, response.statusCode(), response.bodyAsString());
        JsonArray results = response.bodyAsJsonObject().getJsonArray("results");
        assertEquals(3, results.size());
        assertEquals("coffee.jpg", results.getJsonObject(0).getString("name"));
        assertEquals("chelsea.png", results.getJsonObject(1).getString("name"));
        assertEquals("coffee-again.jpg", results.getJsonObject(2).getString("name"));
        assertEquals(results.getJsonObject(0).getJsonArray("predictions"), results.getJsonObject(2).getJsonArray("predictions"));
    }

    @Test
    void jsonBase64AndInputsAndRawBodyAgree() throws Exception {
        byte[] png = Fixtures.bytes(Fixtures.image("chelsea.png"));
        JsonArray raw = predictions(server.postImage("/v1/classify", png, "application/octet-stream"));
        String b64 = Base64.getEncoder().encodeToString(png);
        JsonArray image = predictions(server.client.post("/v1/classify")
                .sendJsonObject(new JsonObject().put("image", b64)).await(60, TimeUnit.SECONDS));
        JsonArray inputs = predictions(server.client.post("/v1/classify")
                .sendJsonObject(new JsonObject().put("inputs", "data:image/png;base64," + b64)).await(60, TimeUnit.SECONDS));
        assertEquals(raw, image);
        assertEquals(raw, inputs);
    }

    @Test
    void topKIsClampedAndFunctionNoneGivesLogits() throws Exception {
        HttpResponse<Buffer> all = server.postImage("/v1/classify?top_k=1000", Fixtures.bytes(Fixtures.image("coffee.jpg")), "image/jpeg");
        assertEquals(10, predictions(all).size());
        JsonArray softmax = predictions(server.postImage("/v1/classify?top_k=10&function=softmax",
                Fixtures.bytes(Fixtures.image("coffee.jpg")), "image/jpeg"));
        double sum = 0;
        for (Object p : softmax) {
            sum += ((JsonObject) p).getDouble("score");
        }
        assertEquals(1.0, sum, 1e-6);
        JsonArray none = predictions(server.postImage("/v1/classify?top_k=10&function=none",
                Fixtures.bytes(Fixtures.image("coffee.jpg")), "image/jpeg"));
        JsonArray sigmoid = predictions(server.postImage("/v1/classify?top_k=10&function=sigmoid",
                Fixtures.bytes(Fixtures.image("coffee.jpg")), "image/jpeg"));
        for (int i = 0; i < 10; i++) {
            double logit = none.getJsonObject(i).getDouble("score");
            assertEquals(none.getJsonObject(i).getInteger("index"), sigmoid.getJsonObject(i).getInteger("index"));
            assertEquals(1 / (1 + Math.exp(-logit)), sigmoid.getJsonObject(i).getDouble("score"), 1e-6);
        }
    }

    @Test
    void modelsDescribesTheModelAndTheDeviceInUse() throws Exception {
        JsonObject models = server.get("/v1/models").bodyAsJsonObject();
        assertEquals(10, models.getInteger("labels"));
        assertEquals(224, models.getJsonObject("image_size").getInteger("height"));
        assertEquals("fake", models.getString("backend"));
        assertEquals("cpu", models.getString("device"));
        assertEquals("config.json", models.getString("weights"));
        assertEquals("softmax", models.getString("default_function"));
        assertNotNull(models.getString("engine"));
    }

    @Test
    void healthAndOpenApi() throws Exception {
        assertEquals(200, server.get("/health/live").statusCode());
        assertEquals(200, server.get("/health/ready").statusCode());
        JsonObject openApi = server.get("/openapi.json").bodyAsJsonObject();
        assertTrue(openApi.getString("openapi").startsWith("3."));
        for (String path : new String[] {"/v1/classify", "/v1/models", "/predict_image_class", "/health/live", "/health/ready"}) {
            assertTrue(openApi.getJsonObject("paths").containsKey(path), path);
        }
    }

    @Test
    void aPhotoSentAsAFormIsClassifiedByItsBytes() throws Exception {
        // curl --data-binary @photo.png without -H declares application/x-www-form-urlencoded
        byte[] photo = Fixtures.bytes(Fixtures.image("chelsea.png"));
        JsonArray expected = predictions(server.postImage("/v1/classify", photo, "image/png"));
        String form = "application/x-www-form-urlencoded";
        assertEquals(expected, predictions(server.postImage("/v1/classify", photo, form)));
        HttpResponse<Buffer> original = server.postImage("/predict_image_class", photo, form);
        assertEquals(200, original.statusCode(), original.bodyAsString());
        assertEquals(expected.getJsonObject(0).getString("label"), original.bodyAsJsonObject().getString("predicted_class"));
        HttpResponse<Buffer> raw = server.postImage("/predict_image_class", photo, "image/png");
        assertEquals(200, raw.statusCode(), raw.bodyAsString());

        HttpResponse<Buffer> fields = server.postImage("/v1/classify",
                "image_url=https%3A%2F%2Fexample.com%2Fcat.jpg".getBytes(java.nio.charset.StandardCharsets.US_ASCII), form);
        assertEquals(415, fields.statusCode(), fields.bodyAsString());
        JsonObject error = fields.bodyAsJsonObject().getJsonObject("error");
        assertEquals("unsupported_media_type", error.getString("code"));
        assertTrue(error.getString("message").contains("Content-Type: image/jpeg"), error.getString("message"));
        HttpResponse<Buffer> empty = server.postImage("/v1/classify", new byte[0], form);
        assertEquals(400, empty.statusCode(), empty.bodyAsString());
        assertEquals("empty_body", empty.bodyAsJsonObject().getJsonObject("error").getString("code"));
    }

    @Test
    void limitsTellWhatTheServerAccepts() throws Exception {
        HttpResponse<Buffer> response = server.get("/v1/limits");
        assertEquals(200, response.statusCode(), response.bodyAsString());
        JsonObject limits = response.bodyAsJsonObject();
        assertEquals(20L * 1024 * 1024, limits.getLong("max_body_bytes"), "the default --max-body-size 20MB");
        assertEquals(40_000_000L, limits.getLong("max_pixels"), "the default --max-megapixels 40");
        assertEquals(16, limits.getInteger("max_files"));
        assertEquals(Boolean.TRUE, limits.getBoolean("url_fetch"));
    }

    static JsonArray predictions(HttpResponse<Buffer> response) {
        assertEquals(200, response.statusCode(), response.bodyAsString());
        return response.bodyAsJsonObject().getJsonArray("results").getJsonObject(0).getJsonArray("predictions");
    }
}
