package dev.vitserve.server;

import static dev.vitserve.core.testing.OipRestClient.binaryInput;
import static dev.vitserve.core.testing.OipRestClient.outputs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vitserve.core.testing.OipRestClient;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code POST /v1/models/{name}/explain} on the photos: attention rollout and occlusion within 1e-4 of PyTorch
 * (testkit/tools/explain-reference.py on Hugging Face's networks, Pillow's tensor) for ViT, DeiT, DINOv2 and BEiT on both
 * backends, with the classification of the same run; the PNG over the image as the model saw it; Swin's rollout refused
 * with a 400 that says why while its occlusion works; bad methods, grids and targets answered with clear 400s.
 */
@ExtendWith(VertxExtension.class)
class ExplainParityTest {

    private static final double TOLERANCE = 1e-4;

    @TempDir
    Path dir;

    static List<Arguments> modelsAndBackends() {
        return Fixtures.rolloutModelNames().stream()
                .flatMap(model -> List.of("onnx", "djl").stream().map(backend -> Arguments.of(model, backend)))
                .toList();
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("modelsAndBackends")
    void rolloutAndOcclusionAreThoseOfPyTorch(String model, String backend, Vertx vertx) throws Exception {
        JsonNode reference = Fixtures.explainReference(model).get("images");
        try (RunningServer server = RunningServer.startModel(vertx, hubLayout(model), backend, "--device", "cpu")) {
            for (Iterator<Map.Entry<String, JsonNode>> photos = reference.fields(); photos.hasNext(); ) {
                Map.Entry<String, JsonNode> photo = photos.next();
                byte[] bytes = Fixtures.bytes(Fixtures.image(photo.getKey()));
                String about = model + " on " + backend + ", " + photo.getKey();
                JsonObject rollout = ok(server.postImage("/v1/models/" + model + "/explain", bytes, "image/*"), about);
                assertEquals("rollout", rollout.getString("method"));
                assertEquals(1, rollout.getInteger("engine_images"));
                JsonNode expected = photo.getValue();
                assertEquals(expected.get("top").get("index").asInt(),
                        rollout.getJsonArray("predictions").getJsonObject(0).getInteger("index"), about);
                assertEquals(expected.get("top").get("index").asInt(), rollout.getJsonObject("target").getInteger("index"));
                assertEquals(expected.get("top").get("score").asDouble(),
                        rollout.getJsonObject("target").getDouble("score"), TOLERANCE, about);
                assertClose(expected.get("rollout").get("values"), rollout.getJsonArray("values"), about + " rollout");
                assertClose(expected.get("rollout").get("scaled"), rollout.getJsonArray("heatmap"), about + " rollout");
                if (expected.has("occlusion")) {
                    JsonObject occlusion = ok(server.postImage("/v1/models/" + model + "/explain?method=occlusion",
                            bytes, "image/*"), about);
                    JsonArray values = occlusion.getJsonArray("values");
                    assertEquals(Fixtures.explainReference(model).get("grid").get(0).asInt(), values.size());
                    assertEquals(values.size() * values.getJsonArray(0).size() + 1, occlusion.getInteger("engine_images"));
                    assertEquals(expected.get("occlusion").get("target").asInt(),
                            occlusion.getJsonObject("target").getInteger("index"));
                    assertClose(expected.get("occlusion").get("values"), values, about + " occlusion");
                }
            }
        }
    }

    @Test
    void oipListsAttentionRolloutAndAnswersItWhenAsked(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.startModel(vertx, hubLayout("beit-shape"), "onnx", "--device", "cpu")) {
            JsonArray metadata = server.get("/v2/models/beit-shape").bodyAsJsonObject().getJsonArray("outputs");
            assertEquals(new JsonObject().put("name", "attention_rollout").put("datatype", "FP32")
                    .put("shape", new JsonArray(List.of(-1, 49))), metadata.getJsonObject(metadata.size() - 1));
            OipRestClient oip = new OipRestClient(server);
            String photo = "coffee.jpg";
            byte[] image = OipRestClient.lengthPrefixed(List.of(Fixtures.bytes(Fixtures.image(photo))));
            JsonObject asked = new JsonObject()
                    .put("inputs", new JsonArray().add(binaryInput("image", "BYTES", List.of(1L), image.length)))
                    .put("outputs", new JsonArray().add(new JsonObject().put("name", "attention_rollout")
                            .put("parameters", new JsonObject().put("binary_data", true))));
            float[] rollout = outputs(oip.postBinary("/v2/models/beit-shape/infer", asked, image)).get(0).floats();
            JsonNode expected = Fixtures.explainReference("beit-shape").get("images").get(photo).get("rollout")
                    .get("values");
            assertEquals(expected.size(), rollout.length);
            for (int i = 0; i < rollout.length; i++) {
                assertEquals(expected.get(i).asDouble(), rollout[i], TOLERANCE, "patch " + i);
            }
            JsonObject unnamed = new JsonObject()
                    .put("inputs", new JsonArray().add(binaryInput("image", "BYTES", List.of(1L), image.length)));
            assertEquals(List.of("logits", "probabilities", "embeddings"), outputs(oip.postBinary(
                    "/v2/models/beit-shape/infer", unnamed, image)).stream().map(output -> output.name()).toList(),
                    "computed only when asked for by name");
        }
    }

    @Test
    void pngIsTheHeatmapOverTheImageTheModelSaw(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.startModel(vertx, hubLayout("deit-shape"), "onnx", "--device", "cpu")) {
            byte[] photo = Fixtures.bytes(Fixtures.image("chelsea.png"));
            HttpResponse<Buffer> byQuery = server.postImage("/v1/explain?format=png", photo, "image/png");
            assertEquals(200, byQuery.statusCode(), byQuery.bodyAsString());
            assertEquals("image/png", byQuery.getHeader("Content-Type"));
            BufferedImage png = ImageIO.read(new ByteArrayInputStream(byQuery.body().getBytes()));
            // 40x40 px seen by the model, drawn 6x (short side at least 224), a 12 px legend below
            assertEquals(240, png.getWidth());
            assertEquals(252, png.getHeight());
            HttpResponse<Buffer> byAccept = server.client.post(server.port(), "localhost",
                    "/v1/models/deit-shape/explain?method=occlusion&grid=4x4&target=tiger")
                    .putHeader("Content-Type", "image/png").putHeader("Accept", "image/png")
                    .sendBuffer(Buffer.buffer(photo)).toCompletionStage().toCompletableFuture().get();
            assertEquals(200, byAccept.statusCode(), byAccept.bodyAsString());
            assertEquals("image/png", byAccept.getHeader("Content-Type"));
            assertEquals("1", byAccept.getHeader("X-Explain-Target"));
        }
    }

    @Test
    void swinRefusesRolloutSayingWhyAndOccludes(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.startModel(vertx, hubLayout("swin-shape"), "onnx", "--device", "cpu")) {
            byte[] photo = Fixtures.bytes(Fixtures.image("coffee.jpg"));
            HttpResponse<Buffer> refused = server.postImage("/v1/explain", photo, "image/*");
            assertEquals(400, refused.statusCode());
            assertEquals("rollout_unavailable", refused.bodyAsJsonObject().getJsonObject("error").getString("code"),
                    refused.bodyAsString());
            assertTrue(refused.bodyAsString().contains("windows") && refused.bodyAsString().contains("method=occlusion"),
                    refused.bodyAsString());
            JsonObject occluded = ok(server.postImage("/v1/explain?method=occlusion", photo, "image/*"), "swin");
            // Swin's patch grid (7x7 here) is the default
            assertEquals(7, occluded.getJsonObject("grid").getInteger("rows"));
            assertEquals(50, occluded.getInteger("engine_images"));
        }
    }

    @Test
    void badMethodsGridsAndTargetsAreClear400s(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.startModel(vertx, hubLayout("deit-shape"), "onnx", "--device", "cpu")) {
            byte[] photo = Fixtures.bytes(Fixtures.image("coffee.jpg"));
            Map<String, String> refusals = Map.of(
                    "/v1/explain?method=gradcam", "method must be rollout or occlusion",
                    "/v1/explain?method=occlusion&grid=17x17", "over the bound",
                    "/v1/explain?method=occlusion&grid=ten", "grid must be ROWSxCOLS",
                    "/v1/explain?method=occlusion&target=zebra", "target 'zebra' is not a label",
                    "/v1/explain?method=occlusion&target=5", "nor a class index 0..4",
                    "/v1/explain?grid=4x4", "rollout answers on the patch grid",
                    "/v1/explain?format=gif", "format must be json or png");
            for (Map.Entry<String, String> refusal : refusals.entrySet()) {
                HttpResponse<Buffer> answer = server.postImage(refusal.getKey(), photo, "image/*");
                assertEquals(400, answer.statusCode(), refusal.getKey() + ": " + answer.bodyAsString());
                assertTrue(answer.bodyAsString().contains(refusal.getValue()), refusal.getKey() + ": "
                        + answer.bodyAsString());
            }
            HttpResponse<Buffer> byLabel = server.postImage("/v1/explain?method=occlusion&grid=2x3&target=teapot", photo,
                    "image/*");
            assertEquals(2, ok(byLabel, "by label").getJsonObject("target").getInteger("index"));
            assertEquals(3, ok(byLabel, "by label").getJsonArray("heatmap").getJsonArray(0).size());
        }
    }

    private static JsonObject ok(HttpResponse<Buffer> response, String about) {
        assertEquals(200, response.statusCode(), about + ": " + response.bodyAsString());
        return response.bodyAsJsonObject();
    }

    /** A flat reference list against rows of an answer's grid. */
    private static void assertClose(JsonNode expected, JsonArray rows, String about) {
        int cols = rows.getJsonArray(0).size();
        assertEquals(expected.size(), rows.size() * cols, about);
        double worst = 0;
        for (int i = 0; i < expected.size(); i++) {
            double actual = rows.getJsonArray(i / cols).getDouble(i % cols);
            worst = Math.max(worst, Math.abs(actual - expected.get(i).asDouble()));
        }
        assertTrue(worst <= TOLERANCE, about + ": off by " + worst);
    }

    /** The model's config, preprocessor config and weights as links, as a Hub snapshot holds them. */
    private Path hubLayout(String model) throws Exception {
        Path folder = Files.createDirectories(dir.resolve(model));
        for (String file : List.of("config.json", "preprocessor_config.json", "model.safetensors")) {
            Files.createSymbolicLink(folder.resolve(file), Fixtures.model(model).resolve(file));
        }
        return folder;
    }
}
