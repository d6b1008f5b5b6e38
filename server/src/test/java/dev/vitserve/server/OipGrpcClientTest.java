package dev.vitserve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.core.testing.TestCertificate;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A gRPC client of another stack, Python's grpcio with stubs generated here by grpc_tools from
 * the {@code grpc_service.proto} in vitserve's jar (Debian's python3-grpcio, python3-grpc-tools),
 * calls {@code inference.GRPCInferenceService} on both backends: health and metadata, ModelInfer
 * on raw image bytes and on FP32 tensors it preprocessed itself (Pillow + numpy), answers within
 * 1e-4 of the PyTorch reference, every kind of bad request gets its gRPC status, and with
 * {@code --tls-cert} the service is served over TLS.
 */
@ExtendWith(VertxExtension.class)
class OipGrpcClientTest {

    static final String PYTHON = ExternalClient.PYTHON;
    static final String KEY = "grpc-test-key-0123456789";
    static final ObjectMapper JSON = new ObjectMapper();
    static final Map<String, JsonNode> ANSWERS = new HashMap<>();
    static Path folder;

    @BeforeAll
    static void run(Vertx vertx) throws Exception {
        folder = ExternalClient.pythonGrpcClient("oip_grpc_client.py", "oip_grpc_tls.py");
        for (String backend : List.of("onnx", "djl")) {
            try (RunningServer server = RunningServer.start(vertx, backend, "--device", "cpu", "--grpc-port", "0",
                    "--api-key", KEY)) {
                List<String> command = new ArrayList<>(List.of(PYTHON, "oip_grpc_client.py", "127.0.0.1:"
                        + server.server.grpcPort(), "tiny-vit", KEY,
                        Fixtures.tinyVit().resolve("preprocessor_config.json").toString()));
                for (String photo : Fixtures.photoNames()) {
                    command.add(Fixtures.image(photo).toString());
                }
                String output = ExternalClient.run(folder, command);
                ANSWERS.put(backend, JSON.readTree(output.lines().reduce((a, b) -> b).orElseThrow()));
            }
        }
    }

    @AfterAll
    static void forget() {
        ANSWERS.clear();
    }

    static void assertReference(JsonNode logits, int offset, String photo, String what) {
        float[] expected = Fixtures.referenceLogits(photo);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], logits.get(offset + i).asDouble(), ReferenceParityTest.LOGIT_TOLERANCE,
                    what + " " + photo + " logit " + i);
        }
    }

    @Test
    void overTlsTheSameServiceAnswersTheReference(Vertx vertx, @TempDir Path certificates) throws Exception {
        TestCertificate certificate = TestCertificate.create(certificates, "grpc");
        try (RunningServer server = RunningServer.start(vertx, "onnx", "--device", "cpu", "--grpc-port", "0",
                "--tls-cert", certificate.certificate().toString(), "--tls-key", certificate.key().toString())) {
            String photo = Fixtures.photoNames().get(0);
            String output = ExternalClient.run(folder, List.of(PYTHON, "oip_grpc_tls.py", "127.0.0.1:"
                    + server.server.grpcPort(), certificate.certificate().toString(), "tiny-vit",
                    Fixtures.image(photo).toString()));
            JsonNode answer = JSON.readTree(output.lines().reduce((a, b) -> b).orElseThrow());
            assertTrue(answer.get("live").asBoolean());
            assertReference(answer.get("logits"), 0, photo, "TLS");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"onnx", "djl"})
    void healthAndMetadata(String backend) {
        JsonNode answer = ANSWERS.get(backend);
        assertTrue(answer.get("live").asBoolean() && answer.get("ready").asBoolean() && answer.get("model_ready").asBoolean());
        assertEquals("vitserve", answer.get("server").get("name").asText());
        assertEquals("[\"classification\"]", answer.get("server").get("extensions").toString(),
                "binary_tensor_data is REST's extension, not gRPC's");
        JsonNode metadata = answer.get("metadata");
        assertEquals("tiny-vit", metadata.get("name").asText());
        assertEquals("[[\"pixel_values\",\"FP32\",[-1,3,224,224]],[\"image\",\"BYTES\",[-1]]]", metadata.get("inputs").toString());
        String outputs = metadata.get("outputs").toString();
        String classifier = "[\"logits\",\"FP32\",[-1,10]],[\"probabilities\",\"FP32\",[-1,10]]";
        assertTrue(outputs.equals("[" + classifier + "]") || outputs.equals("[" + classifier
                + ",[\"embeddings\",\"FP32\",[-1,32]]]"), outputs);
    }

    @ParameterizedTest
    @ValueSource(strings = {"onnx", "djl"})
    void rawImageBytesGiveTheReferenceLogitsAndLabels(String backend) {
        JsonNode bytes = ANSWERS.get(backend).get("bytes");
        List<String> photos = Fixtures.photoNames();
        assertEquals(photos.size(), bytes.size());
        for (int n = 0; n < photos.size(); n++) {
            JsonNode answer = bytes.get(n);
            assertEquals("[[1,10],[1,5]]", answer.get("shapes").toString());
            assertEquals("py", answer.get("id").asText());
            assertEquals("1", answer.get("model_version").asText());
            assertReference(answer.get("logits"), 0, photos.get(n), backend + " bytes");
            JsonNode top = Fixtures.reference().get("images").get(photos.get(n)).get("top");
            for (int i = 0; i < top.size(); i++) {
                String[] parts = answer.get("top").get(i).asText().split(":", 3);
                assertEquals(top.get(i).get("score").asDouble(), Double.parseDouble(parts[0]), 1e-5, photos.get(n));
                assertEquals(top.get(i).get("index").asText(), parts[1]);
                assertEquals(top.get(i).get("label").asText(), parts[2]);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"onnx", "djl"})
    void fp32TensorsPreprocessedByPythonGiveTheReferenceLogits(String backend) {
        JsonNode answer = ANSWERS.get(backend);
        List<String> photos = Fixtures.photoNames();
        assertEquals("[" + photos.size() + ",10]", answer.get("tensors_raw").get("shape").toString());
        for (int n = 0; n < photos.size(); n++) {
            assertReference(answer.get("tensors_raw").get("logits"), n * 10, photos.get(n), backend + " raw tensor");
            assertReference(answer.get("tensors_typed").get(n), 0, photos.get(n), backend + " typed tensor");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"onnx", "djl"})
    void badRequestsGetTheirGrpcStatusAndTheServerServesOn(String backend) {
        JsonNode errors = ANSWERS.get(backend).get("errors");
        Map<String, String> expected = Map.ofEntries(
                Map.entry("wrong_datatype", "INVALID_ARGUMENT"),
                Map.entry("wrong_shape", "INVALID_ARGUMENT"),
                Map.entry("product_mismatch", "INVALID_ARGUMENT"),
                Map.entry("unknown_model", "NOT_FOUND"),
                Map.entry("not_an_image", "INVALID_ARGUMENT"),
                Map.entry("length_past_data", "INVALID_ARGUMENT"),
                Map.entry("unknown_input", "INVALID_ARGUMENT"),
                Map.entry("bad_classification", "INVALID_ARGUMENT"),
                Map.entry("tensor_wrong_size", "INVALID_ARGUMENT"),
                Map.entry("no_key", "UNAUTHENTICATED"),
                Map.entry("not_a_message", "INVALID_ARGUMENT"),
                Map.entry("repository_off", "PERMISSION_DENIED"));
        assertEquals(expected.size(), errors.size(), errors.toString());
        expected.forEach((kind, code) -> {
            assertEquals(code, errors.get(kind).get(0).asText(), kind + ": " + errors.get(kind));
            String message = errors.get(kind).get(1).asText();
            assertTrue(message.length() > 15 && !message.contains("Exception"), kind + ": " + message);
        });
        assertTrue(errors.get("unknown_model").get(1).asText().contains("no/such-model"));
        assertTrue(errors.get("not_an_image").get(1).asText().contains("supported format"));
        assertTrue(errors.get("repository_off").get(1).asText().contains("--admin-api-key"));
        assertReference(ANSWERS.get(backend).get("after_errors"), 0, Fixtures.photoNames().get(0), backend + " after errors");
    }
}
