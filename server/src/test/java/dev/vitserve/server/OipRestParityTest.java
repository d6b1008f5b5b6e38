package dev.vitserve.server;

import static dev.vitserve.core.testing.OipRestClient.binaryInput;
import static dev.vitserve.core.testing.OipRestClient.outputs;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vitserve.core.testing.OipRestClient;
import dev.vitserve.core.testing.OipRestClient.Output;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Open Inference Protocol REST requests as tritonclient makes them (binary tensors both ways) and
 * in plain JSON answer the PyTorch reference within 1e-4 for every fixture photo, on both
 * backends: encoded images (BYTES) decoded by vitserve, and preprocessed FP32 pixel_values.
 */
@ExtendWith(VertxExtension.class)
class OipRestParityTest {

    static final double TOLERANCE = ReferenceParityTest.LOGIT_TOLERANCE;
    static final String INFER = "/v2/models/tiny-vit/infer";
    static final Map<String, RunningServer> SERVERS = new HashMap<>();

    @BeforeAll
    static void start(Vertx vertx) throws Exception {
        SERVERS.putAll(ReferenceParityTest.startBothBackends(vertx));
    }

    @AfterAll
    static void stop() {
        SERVERS.values().forEach(RunningServer::close);
    }

    static List<byte[]> photos() throws Exception {
        List<byte[]> photos = new ArrayList<>();
        for (String photo : Fixtures.photoNames()) {
            photos.add(Fixtures.bytes(Fixtures.image(photo)));
        }
        return photos;
    }

    static void assertReferenceLogits(float[] logits, String what) {
        List<String> names = Fixtures.photoNames();
        int labels = logits.length / names.size();
        for (int n = 0; n < names.size(); n++) {
            float[] expected = Fixtures.referenceLogits(names.get(n));
            assertEquals(expected.length, labels);
            for (int i = 0; i < labels; i++) {
                assertEquals(expected[i], logits[n * labels + i], TOLERANCE, what + " " + names.get(n) + " logit " + i);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"onnx", "djl"})
    void binaryEncodedImagesGiveTheReferenceLogitsAndLabels(String backend) throws Exception {
        OipRestClient oip = new OipRestClient(SERVERS.get(backend));
        List<String> names = Fixtures.photoNames();
        // one request per photo, as tritonclient's ensemble client sends them: BYTES [1,1], binary, class_count 5
        for (int n = 0; n < names.size(); n++) {
            byte[] image = OipRestClient.lengthPrefixed(List.of(photos().get(n)));
            JsonObject header = new JsonObject()
                    .put("inputs", new JsonArray().add(binaryInput("image", "BYTES", List.of(1L, 1L), image.length)))
                    .put("outputs", new JsonArray()
                            .add(new JsonObject().put("name", "logits").put("parameters", new JsonObject().put("binary_data", true)))
                            .add(new JsonObject().put("name", "probabilities").put("parameters",
                                    new JsonObject().put("binary_data", true).put("classification", 5))));
            List<Output> outputs = outputs(oip.postBinary(INFER, header, image));
            float[] expected = Fixtures.referenceLogits(names.get(n));
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], outputs.get(0).floats()[i], TOLERANCE, backend + " " + names.get(n) + " logit " + i);
            }
            JsonNode top = Fixtures.reference().get("images").get(names.get(n)).get("top");
            for (int i = 0; i < top.size(); i++) {
                String[] parts = outputs.get(1).strings().get(i).split(":", 3);
                assertEquals(top.get(i).get("score").asDouble(), Double.parseDouble(parts[0]), 1e-5, names.get(n));
                assertEquals(top.get(i).get("index").asInt(), Integer.parseInt(parts[1]), names.get(n));
                assertEquals(top.get(i).get("label").asText(), parts[2], names.get(n));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"onnx", "djl"})
    void jsonEncodedImagesGiveTheReferenceProbabilities(String backend) throws Exception {
        OipRestClient oip = new OipRestClient(SERVERS.get(backend));
        List<String> names = Fixtures.photoNames();
        for (int n = 0; n < names.size(); n++) {
            JsonObject request = new JsonObject().put("inputs", new JsonArray().add(new JsonObject()
                    .put("name", "image").put("datatype", "BYTES").put("shape", new JsonArray(List.of(1)))
                    .put("data", new JsonArray().add(Base64.getEncoder().encodeToString(photos().get(n))))));
            List<Output> outputs = outputs(oip.post(INFER, request.toBuffer(), null));
            float[] probabilities = outputs.get(1).floats();
            for (JsonNode top : Fixtures.reference().get("images").get(names.get(n)).get("top")) {
                assertEquals(top.get("score").asDouble(), probabilities[top.get("index").asInt()], 1e-5,
                        backend + " " + names.get(n));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"onnx", "djl"})
    void preprocessedPixelValuesInBatchesGiveTheReferenceLogits(String backend) throws Exception {
        OipRestClient oip = new OipRestClient(SERVERS.get(backend));
        List<byte[]> photos = photos();
        float[] logits = new float[0];
        for (int start = 0; start < photos.size(); start += 4) {
            List<byte[]> batch = photos.subList(start, Math.min(photos.size(), start + 4));
            float[] pixels = OipRestClient.pixelValues(Fixtures.tinyVit(), batch);
            JsonObject header = new JsonObject().put("inputs", new JsonArray().add(binaryInput("pixel_values", "FP32",
                    List.of((long) batch.size(), 3L, 224L, 224L), pixels.length * 4)))
                    .put("parameters", new JsonObject().put("binary_data_output", true));
            float[] answer = outputs(oip.postBinary(INFER, header, OipRestClient.littleEndian(pixels))).get(0).floats();
            float[] joined = new float[logits.length + answer.length];
            System.arraycopy(logits, 0, joined, 0, logits.length);
            System.arraycopy(answer, 0, joined, logits.length, answer.length);
            logits = joined;
        }
        assertReferenceLogits(logits, backend);
    }
}
