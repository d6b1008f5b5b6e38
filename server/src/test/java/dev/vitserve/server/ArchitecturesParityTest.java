package dev.vitserve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vitserve.api.Logits;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The architectures besides ViT served from config.json, preprocessor_config.json and model.safetensors alone, as a Hub
 * snapshot has them: on both backends, every photo's logits and embedding within 1e-4 of the PyTorch port of Hugging
 * Face's code (testkit/tools/hf-vision-port.py) on Pillow's tensor; /v1/models and the OIP metadata name the
 * architecture; in int8, logits within cosine 0.999 of float32 on every photo.
 */
@ExtendWith(VertxExtension.class)
class ArchitecturesParityTest {

    @TempDir
    Path dir;

    static List<Arguments> modelsAndBackends() {
        return Fixtures.architectureModelNames().stream()
                .flatMap(model -> List.of("onnx", "djl").stream().map(backend -> Arguments.of(model, backend)))
                .toList();
    }

    static List<String> models() {
        return Fixtures.architectureModelNames();
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("modelsAndBackends")
    void everyPhotoMatchesThePort(String model, String backend, Vertx vertx) throws Exception {
        Path folder = hubLayout(model);
        String architecture = Fixtures.json(folder.resolve("config.json")).get("architectures").get(0).asText();
        JsonNode reference = Fixtures.reference(model).get("images");
        try (RunningServer server = RunningServer.startModel(vertx, folder, backend, "--device", "cpu")) {
            JsonObject models = server.get("/v1/models").bodyAsJsonObject();
            assertEquals("model.safetensors", models.getString("weights"), models.encode());
            assertEquals(architecture, models.getString("architecture"), models.encode());
            int dimensions = reference.get("chelsea.png").get("embedding").size();
            assertEquals(dimensions, models.getInteger("embedding_size"), models.encode());
            JsonObject metadata = server.get("/v2/models/" + model).bodyAsJsonObject();
            assertEquals(architecture, metadata.getString("architecture"), metadata.encode());
            String processor = Fixtures.json(folder.resolve("preprocessor_config.json")).get("image_processor_type").asText();
            assertEquals(processor, models.getJsonObject("preprocessing").getString("processor"), models.encode());
            assertEquals(processor, metadata.getString("processor"), metadata.encode());
            JsonObject embeddingsOutput = metadata.getJsonArray("outputs").stream().map(JsonObject.class::cast)
                    .filter(output -> output.getString("name").equals("embeddings")).findFirst().orElseThrow();
            assertEquals(List.of(-1, dimensions), embeddingsOutput.getJsonArray("shape").getList(), metadata.encode());
            for (String photo : Fixtures.photoNames()) {
                byte[] bytes = Fixtures.bytes(Fixtures.image(photo));
                float[] logits = ReferenceParityTest.logits(server.postImage("/v1/classify?function=none&top_k=1000",
                        bytes, "image/*"));
                float[] expected = Fixtures.referenceLogits(model, photo);
                assertEquals(expected.length, logits.length);
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(expected[i], logits[i], ReferenceParityTest.LOGIT_TOLERANCE,
                            model + " on " + backend + ", " + photo + ", logit " + i);
                }
                JsonObject embedded = server.postImage("/v1/models/" + model + "/embed", bytes, "image/*")
                        .bodyAsJsonObject();
                assertEquals(dimensions, embedded.getInteger("dimensions"), embedded.encode());
                JsonArray embedding = embedded.getJsonArray("results").getJsonObject(0).getJsonArray("embedding");
                JsonNode expectedEmbedding = reference.get(photo).get("embedding");
                assertEquals(dimensions, embedding.size());
                for (int i = 0; i < dimensions; i++) {
                    assertEquals(expectedEmbedding.get(i).asDouble(), embedding.getDouble(i), 1e-4,
                            model + " on " + backend + ", " + photo + ", embedding " + i);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void int8StaysWithinCosine0999OfFloat32OnEveryPhoto(String model, Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.startModel(vertx, hubLayout(model), "onnx", "--device", "cpu",
                "--precision", "int8")) {
            JsonObject models = server.get("/v1/models").bodyAsJsonObject();
            assertEquals("int8", models.getString("precision"), models.encode());
            for (String photo : Fixtures.photoNames()) {
                float[] int8 = ReferenceParityTest.logits(server.postImage("/v1/classify?function=none&top_k=1000",
                        Fixtures.bytes(Fixtures.image(photo)), "image/*"));
                double cosine = Logits.cosineSimilarity(Fixtures.referenceLogits(model, photo), int8);
                System.out.printf("%s int8, %s: cosine %.6f to fp32%n", model, photo, cosine);
                assertTrue(cosine >= 0.999, model + " " + photo + ": cosine of int8 to fp32 logits " + cosine);
            }
        }
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
