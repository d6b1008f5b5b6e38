package dev.vitserve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
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
 * A model folder with only config.json, preprocessor_config.json and model.safetensors, as the
 * Hub has them: both backends build the network from the weights and answer like the reference
 * (PyTorch on Pillow's tensors) for every photo, on three ViT shapes.
 */
@ExtendWith(VertxExtension.class)
class BuiltFromWeightsParityTest {

    @TempDir
    Path dir;

    static List<Arguments> modelsAndBackends() {
        return Fixtures.modelNames().stream()
                .flatMap(model -> List.of("onnx", "djl").stream().map(backend -> Arguments.of(model, backend)))
                .toList();
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("modelsAndBackends")
    void everyPhotoMatchesTheReference(String model, String backend, Vertx vertx) throws Exception {
        Path folder = Files.createDirectories(dir.resolve(model));
        for (String file : List.of("config.json", "preprocessor_config.json", "model.safetensors")) {
            Files.createSymbolicLink(folder.resolve(file), Fixtures.model(model).resolve(file));
        }
        try (RunningServer server = RunningServer.startModel(vertx, folder, backend, "--device", "cpu")) {
            JsonObject models = server.get("/v1/models").bodyAsJsonObject();
            assertEquals("model.safetensors", models.getString("weights"), models.encode());
            JsonNode reference = Fixtures.reference(model).get("images");
            for (String photo : Fixtures.photoNames()) {
                float[] logits = ReferenceParityTest.logits(server.postImage("/v1/classify?function=none&top_k=1000",
                        Fixtures.bytes(Fixtures.image(photo)), "image/*"));
                float[] expected = Fixtures.referenceLogits(model, photo);
                assertEquals(expected.length, logits.length);
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(expected[i], logits[i], ReferenceParityTest.LOGIT_TOLERANCE,
                            model + " on " + backend + ", " + photo + ", logit " + i);
                }
                JsonArray top = ReferenceParityTest.predictions(server.postImage("/v1/classify",
                        Fixtures.bytes(Fixtures.image(photo)), "image/*"));
                JsonNode expectedTop = reference.get(photo).get("top");
                for (int i = 0; i < expectedTop.size(); i++) {
                    assertEquals(expectedTop.get(i).get("index").asInt(), top.getJsonObject(i).getInteger("index"),
                            model + " on " + backend + ", " + photo + ", rank " + i);
                }
            }
        }
    }
}
