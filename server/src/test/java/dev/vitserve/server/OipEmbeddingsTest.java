package dev.vitserve.server;

import static dev.vitserve.core.testing.OipRestClient.binaryInput;
import static dev.vitserve.core.testing.OipRestClient.outputs;
import static dev.vitserve.core.testing.PlainErrors.assertPlainError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.OipRestClient;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import dev.vitserve.testkit.TestSafetensors;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Open Inference Protocol's {@code embeddings} output: on a model whose engine vitserve builds
 * from model.safetensors it is listed in the metadata and answers the vector {@code /embed} answers,
 * which through the classifier's weight and bias gives the PyTorch reference logits within 1e-4, on
 * both backends; on an exported network the metadata says whether it has one, and asking for it
 * where it has none is a 400.
 */
@ExtendWith(VertxExtension.class)
class OipEmbeddingsTest {

    static final String INFER = "/v2/models/tiny-vit/infer";

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"onnx", "djl"})
    void embeddingsAreTheVectorTheClassifierReads(String backend, Vertx vertx) throws Exception {
        Path folder = Files.createDirectories(dir.resolve("tiny-vit"));
        for (String file : List.of("config.json", "preprocessor_config.json", "model.safetensors")) {
            Files.createSymbolicLink(folder.resolve(file), Fixtures.tinyVit().resolve(file));
        }
        TestSafetensors weights = TestSafetensors.open(Fixtures.tinyVit().resolve("model.safetensors"));
        float[] w = array(weights.floats("classifier.weight"));
        float[] b = array(weights.floats("classifier.bias"));
        try (RunningServer server = RunningServer.startModel(vertx, folder, backend, "--device", "cpu",
                "--warmup-inferences", "0", "--model", "exported=" + Fixtures.tinyVit())) {
            JsonArray metadataOutputs = server.get("/v2/models/tiny-vit").bodyAsJsonObject().getJsonArray("outputs");
            assertEquals(new JsonObject().put("name", "embeddings").put("datatype", "FP32")
                    .put("shape", new JsonArray(List.of(-1, 32))), metadataOutputs.getJsonObject(2));
            OipRestClient oip = new OipRestClient(server);
            for (String photo : Fixtures.photoNames()) {
                byte[] image = OipRestClient.lengthPrefixed(List.of(Fixtures.bytes(Fixtures.image(photo))));
                JsonObject header = new JsonObject()
                        .put("inputs", new JsonArray().add(binaryInput("image", "BYTES", List.of(1L), image.length)))
                        .put("outputs", new JsonArray().add(new JsonObject().put("name", "embeddings")
                                .put("parameters", new JsonObject().put("binary_data", true))));
                float[] embedding = outputs(oip.postBinary(INFER, header, image)).get(0).floats();
                JsonArray embed = server.postImage("/v1/models/tiny-vit/embed", Fixtures.bytes(Fixtures.image(photo)),
                        "image/*").bodyAsJsonObject().getJsonArray("results").getJsonObject(0).getJsonArray("embedding");
                assertEquals(embed.size(), embedding.length);
                for (int j = 0; j < embedding.length; j++) {
                    assertEquals(embed.getDouble(j), embedding[j], 1e-6, backend + " " + photo + " value " + j);
                }
                float[] reference = Fixtures.referenceLogits(photo);
                for (int label = 0; label < b.length; label++) {
                    double logit = b[label];
                    for (int j = 0; j < embedding.length; j++) {
                        logit += (double) embedding[j] * w[label * embedding.length + j];
                    }
                    assertEquals(reference[label], logit, 1e-4, backend + " " + photo + " label " + label);
                }
            }
            // an exported network embeds when the backend finds the classifier's input in it; the metadata says which
            JsonArray exportedOutputs = server.get("/v2/models/exported").bodyAsJsonObject().getJsonArray("outputs");
            byte[] image = OipRestClient.lengthPrefixed(List.of(Fixtures.bytes(Fixtures.image("chelsea.png"))));
            JsonObject header = new JsonObject()
                    .put("inputs", new JsonArray().add(binaryInput("image", "BYTES", List.of(1L), image.length)))
                    .put("outputs", new JsonArray().add(new JsonObject().put("name", "embeddings")));
            if (exportedOutputs.size() == 3) {
                assertEquals(32, outputs(oip.postBinary("/v2/models/exported/infer", header, image)).get(0).floats().length);
            } else {
                assertEquals(2, exportedOutputs.size(), exportedOutputs.encode());
                assertTrue(assertPlainError(oip.postBinary("/v2/models/exported/infer", header, image), 400)
                        .contains("embeddings"));
            }
        }
    }

    static float[] array(FloatBuffer buffer) {
        float[] values = new float[buffer.remaining()];
        buffer.get(values);
        return values;
    }
}
