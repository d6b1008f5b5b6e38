package dev.vitserve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import io.vertx.junit5.VertxExtension;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The answers of the REST API equal the Hugging Face reference ({@code reference.json}: logits
 * from PyTorch on Pillow's tensors) for every fixture photo, on every backend, and the
 * backends agree with each other.
 */
@ExtendWith(VertxExtension.class)
class ReferenceParityTest {

    static final double LOGIT_TOLERANCE = 1e-4;
    static final Map<String, RunningServer> SERVERS = new HashMap<>();

    @BeforeAll
    static void start(Vertx vertx) throws Exception {
        SERVERS.putAll(startBothBackends(vertx));
    }

    /** The tiny fixture model served on the CPU by each backend, by backend id. */
    static Map<String, RunningServer> startBothBackends(Vertx vertx) throws Exception {
        Map<String, RunningServer> servers = new HashMap<>();
        for (String backend : List.of("onnx", "djl")) {
            servers.put(backend, RunningServer.start(vertx, backend, "--device", "cpu"));
        }
        return servers;
    }

    @AfterAll
    static void stop() throws Exception {
        for (RunningServer server : SERVERS.values()) {
            server.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"onnx", "djl"})
    void everyPhotoGivesTheReferenceLogitsAndTopFive(String backend) throws Exception {
        RunningServer server = SERVERS.get(backend);
        for (String photo : Fixtures.photoNames()) {
            byte[] bytes = Fixtures.bytes(Fixtures.image(photo));
            float[] logits = logits(server.postImage("/v1/classify?function=none&top_k=1000", bytes, "image/*"));
            float[] expected = Fixtures.referenceLogits(photo);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], logits[i], LOGIT_TOLERANCE, backend + " " + photo + " logit " + i);
            }
            JsonArray top = predictions(server.postImage("/v1/classify", bytes, "application/octet-stream"));
            JsonNode reference = Fixtures.reference().get("images").get(photo).get("top");
            assertEquals(reference.size(), top.size());
            for (int i = 0; i < top.size(); i++) {
                JsonObject p = top.getJsonObject(i);
                assertEquals(reference.get(i).get("label").asText(), p.getString("label"), backend + " " + photo + " rank " + i);
                assertEquals(reference.get(i).get("index").asInt(), p.getInteger("index"));
                assertEquals(reference.get(i).get("score").asDouble(), p.getDouble("score"), 1e-6, backend + " " + photo);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"onnx", "djl"})
    void oneMultipartRequestWithEveryPhotoGivesTheSameAnswersInOrder(String backend) throws Exception {
        RunningServer server = SERVERS.get(backend);
        MultipartForm form = MultipartForm.create();
        List<String> photos = Fixtures.photoNames().subList(0, 6);
        for (String photo : photos) {
            form.binaryFileUpload("images", photo, Buffer.buffer(Fixtures.bytes(Fixtures.image(photo))), "image/*");
        }
        HttpResponse<Buffer> response = server.client.post("/v1/classify?function=none&top_k=10")
                .sendMultipartForm(form).await(60, TimeUnit.SECONDS);
        assertEquals(200, response.statusCode(), response.bodyAsString());
        JsonArray results = response.bodyAsJsonObject().getJsonArray("results");
        for (int n = 0; n < photos.size(); n++) {
            assertEquals(photos.get(n), results.getJsonObject(n).getString("name"));
            float[] logits = logits(results.getJsonObject(n).getJsonArray("predictions"));
            float[] expected = Fixtures.referenceLogits(photos.get(n));
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], logits[i], LOGIT_TOLERANCE, photos.get(n));
            }
        }
    }

    @Test
    void theTwoBackendsAgree() throws Exception {
        for (String photo : Fixtures.photoNames()) {
            byte[] bytes = Fixtures.bytes(Fixtures.image(photo));
            float[] onnx = logits(SERVERS.get("onnx").postImage("/v1/classify?function=none&top_k=10", bytes, "image/*"));
            float[] djl = logits(SERVERS.get("djl").postImage("/v1/classify?function=none&top_k=10", bytes, "image/*"));
            for (int i = 0; i < onnx.length; i++) {
                assertEquals(onnx[i], djl[i], LOGIT_TOLERANCE, photo + " logit " + i);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"onnx", "djl"})
    void modelsReportsTheBackendTheDeviceAndTheWeights(String backend) throws Exception {
        JsonObject models = SERVERS.get(backend).get("/v1/models").bodyAsJsonObject();
        assertEquals(backend, models.getString("backend"));
        assertEquals("cpu", models.getString("device"));
        assertEquals(backend.equals("onnx") ? "onnx/model.onnx" : "model.pt", models.getString("weights"));
        assertEquals(10, models.getInteger("labels"));
    }

    static JsonArray predictions(HttpResponse<Buffer> response) {
        assertEquals(200, response.statusCode(), response.bodyAsString());
        return response.bodyAsJsonObject().getJsonArray("results").getJsonObject(0).getJsonArray("predictions");
    }

    /** The logits by class index, from predictions made with function=none. */
    static float[] logits(HttpResponse<Buffer> response) {
        return logits(predictions(response));
    }

    static float[] logits(JsonArray predictions) {
        float[] logits = new float[predictions.size()];
        for (Object item : predictions) {
            JsonObject p = (JsonObject) item;
            logits[p.getInteger("index")] = p.getDouble("score").floatValue();
        }
        return logits;
    }
}
