package dev.vitserve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import dev.vitserve.testkit.TestSafetensors;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import io.vertx.junit5.VertxExtension;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code POST /v1/models/{name}/embed}: the vector the classifier reads, exactly: with the
 * classifier's weight and bias from model.safetensors it gives the logits classify answers (and those
 * match PyTorch's), for every fixture photo, on both backends and two ViT shapes; unit length on asking.
 */
@ExtendWith(VertxExtension.class)
class EmbeddingsTest {

    static final List<String> MODELS = List.of("tiny-vit", "vit-shape-a");

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"onnx", "djl"})
    void embeddingTimesTheClassifierIsTheLogits(String backend, Vertx vertx) throws Exception {
        for (String model : MODELS) {
            Path folder = Files.createDirectories(dir.resolve(model));
            for (String file : List.of("config.json", "preprocessor_config.json", "model.safetensors")) {
                Files.createSymbolicLink(folder.resolve(file), Fixtures.model(model).resolve(file));
            }
        }
        try (RunningServer server = RunningServer.startModel(vertx, dir.resolve("tiny-vit"), backend, "--device", "cpu",
                "--warmup-inferences", "0", "--model", dir.resolve("vit-shape-a").toString(),
                "--model", "exported=" + Fixtures.tinyVit())) {
            for (String model : MODELS) {
                TestSafetensors weights = TestSafetensors.open(Fixtures.model(model).resolve("model.safetensors"));
                float[] w = array(weights.floats("classifier.weight"));
                float[] b = array(weights.floats("classifier.bias"));
                for (String photo : Fixtures.photoNames()) {
                    byte[] bytes = Fixtures.bytes(Fixtures.image(photo));
                    JsonObject answer = ok(server.postImage("/v1/models/" + model + "/embed", bytes, "image/*"));
                    float[] embedding = floats(answer.getJsonArray("results").getJsonObject(0).getJsonArray("embedding"));
                    assertEquals(answer.getInteger("dimensions"), embedding.length);
                    assertEquals(model, answer.getString("model"), "the name asked for, not the folder");
                    float[] logits = ReferenceParityTest.logits(server.postImage("/v1/models/" + model
                            + "/classify?function=none&top_k=1000", bytes, "image/*"));
                    float[] reference = Fixtures.referenceLogits(model, photo);
                    for (int label = 0; label < b.length; label++) {
                        double product = b[label];
                        for (int j = 0; j < embedding.length; j++) {
                            product += (double) embedding[j] * w[label * embedding.length + j];
                        }
                        String where = backend + " " + model + " " + photo + " label " + label;
                        assertEquals(logits[label], product, 1e-4, where);
                        assertEquals(reference[label], product, 1e-4, where + " against PyTorch");
                    }
                    float[] unit = floats(ok(server.postImage("/v1/models/" + model + "/embed?normalize=true", bytes,
                            "image/*")).getJsonArray("results").getJsonObject(0).getJsonArray("embedding"));
                    double norm = 0;
                    for (float value : embedding) {
                        norm += (double) value * value;
                    }
                    norm = Math.sqrt(norm);
                    double length = 0;
                    for (int j = 0; j < unit.length; j++) {
                        length += (double) unit[j] * unit[j];
                        assertEquals(embedding[j] / norm, unit[j], 1e-6, where(backend, model, photo));
                    }
                    assertEquals(1.0, Math.sqrt(length), 1e-5, where(backend, model, photo));
                }
            }
            severalImagesInOneRequestKeepTheirOrder(server);
            byte[] coffee = Fixtures.bytes(Fixtures.image("coffee.jpg"));
            HttpResponse<Buffer> exported = server.postImage("/v1/models/exported/embed", coffee, "image/jpeg");
            if (backend.equals("onnx")) {
                // an exported ONNX file gives the input of its classifier too: the network built from the same
                // weights gives the same vector
                float[] fromExport = floats(ok(exported).getJsonArray("results").getJsonObject(0).getJsonArray("embedding"));
                float[] built = floats(ok(server.postImage("/v1/models/tiny-vit/embed", coffee, "image/jpeg"))
                        .getJsonArray("results").getJsonObject(0).getJsonArray("embedding"));
                assertEquals(built.length, fromExport.length);
                for (int j = 0; j < built.length; j++) {
                    assertEquals(built[j], fromExport[j], 1e-4, "exported onnx, value " + j);
                }
                return;
            }
            // TorchScript files are run as they are, and give only their logits
            assertEquals(422, exported.statusCode());
            JsonObject error = exported.bodyAsJsonObject().getJsonObject("error");
            assertEquals("embeddings_unavailable", error.getString("code"));
            assertTrue(error.getString("message").contains("model.safetensors")
                    && error.getString("message").contains("--network-from safetensors"), error.getString("message"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"onnx", "djl"})
    void networkFromSafetensorsRunsTheBuiltNetworkBesideTheExportAndExportNeedsOne(String backend, Vertx vertx)
            throws Exception {
        byte[] photo = Fixtures.bytes(Fixtures.image("coffee.jpg"));
        TestSafetensors weights = TestSafetensors.open(Fixtures.tinyVit().resolve("model.safetensors"));
        float[] w = array(weights.floats("classifier.weight"));
        float[] b = array(weights.floats("classifier.bias"));
        float[] reference = Fixtures.referenceLogits("tiny-vit", "coffee.jpg");
        // tiny-vit's folder has model.pt and onnx/model.onnx beside model.safetensors
        try (RunningServer server = RunningServer.start(vertx, backend, "--device", "cpu", "--warmup-inferences", "0",
                "--network-from", "safetensors")) {
            assertEquals("model.safetensors", server.get("/v1/models/tiny-vit").bodyAsJsonObject().getString("weights"));
            float[] embedding = floats(ok(server.postImage("/v1/models/tiny-vit/embed", photo, "image/jpeg"))
                    .getJsonArray("results").getJsonObject(0).getJsonArray("embedding"));
            for (int label = 0; label < b.length; label++) {
                double product = b[label];
                for (int j = 0; j < embedding.length; j++) {
                    product += (double) embedding[j] * w[label * embedding.length + j];
                }
                assertEquals(reference[label], product, 1e-4, "label " + label + " against PyTorch");
            }
        }
        Path folder = Files.createDirectories(dir.resolve("weights-only"));
        for (String file : List.of("config.json", "preprocessor_config.json", "model.safetensors")) {
            Files.createSymbolicLink(folder.resolve(file), Fixtures.tinyVit().resolve(file));
        }
        Exception refused = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> RunningServer
                .startModel(vertx, folder, backend, "--device", "cpu", "--network-from", "export").close());
        String message = String.valueOf(refused.getMessage()) + " " + refused.getCause();
        assertTrue(message.contains("--network-from export asks for its export "
                + (backend.equals("djl") ? "model.pt" : "onnx/model.onnx")), message);
    }

    private static void severalImagesInOneRequestKeepTheirOrder(RunningServer server) throws Exception {
        MultipartForm form = MultipartForm.create();
        List<String> photos = Fixtures.photoNames().subList(0, 3);
        for (String photo : photos) {
            form.binaryFileUpload("images", photo, Buffer.buffer(Fixtures.bytes(Fixtures.image(photo))), "image/*");
        }
        JsonArray results = ok(server.client.post("/v1/embed").sendMultipartForm(form).await(60, TimeUnit.SECONDS))
                .getJsonArray("results");
        for (int n = 0; n < photos.size(); n++) {
            assertEquals(photos.get(n), results.getJsonObject(n).getString("name"));
            JsonArray alone = ok(server.postImage("/v1/embed", Fixtures.bytes(Fixtures.image(photos.get(n))), "image/*"))
                    .getJsonArray("results").getJsonObject(0).getJsonArray("embedding");
            float[] expected = floats(alone);
            float[] got = floats(results.getJsonObject(n).getJsonArray("embedding"));
            for (int j = 0; j < expected.length; j++) {
                assertEquals(expected[j], got[j], 1e-5, photos.get(n));
            }
        }
    }

    private static String where(String backend, String model, String photo) {
        return backend + " " + model + " " + photo;
    }

    private static JsonObject ok(HttpResponse<Buffer> response) {
        assertEquals(200, response.statusCode(), response.bodyAsString());
        return response.bodyAsJsonObject();
    }

    private static float[] floats(JsonArray values) {
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.getDouble(i).floatValue();
        }
        return out;
    }

    private static float[] array(FloatBuffer buffer) {
        float[] out = new float[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }
}
