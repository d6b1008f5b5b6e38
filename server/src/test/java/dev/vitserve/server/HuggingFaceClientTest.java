package dev.vitserve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Hugging Face's own JavaScript client, {@code @huggingface/inference} (pinned in
 * clients/package.json, installed from npm), pointed at vitserve as at an Inference Endpoint:
 * {@code imageClassification} against {@code POST /} and {@code POST /models/{name}} answers the
 * reference's top 5 for every fixture photo, with an API key sent as its access token.
 */
@ExtendWith(VertxExtension.class)
class HuggingFaceClientTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String KEY = "hf-test-key-0123456789";
    static RunningServer server;
    static Path clients;

    @BeforeAll
    static void start(Vertx vertx) throws Exception {
        clients = ExternalClient.npmPackages();
        ExternalClient.scripts("hf-image-classification.mjs");
        server = RunningServer.start(vertx, "onnx", "--device", "cpu", "--api-key", KEY);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void imageClassificationAtTheRootAnswersTheReferenceTopFive() throws Exception {
        assertReferenceAnswers("http://127.0.0.1:" + server.port() + "/");
    }

    @Test
    void imageClassificationAtAModelsRouteAnswersTheReferenceTopFive() throws Exception {
        assertReferenceAnswers("http://127.0.0.1:" + server.port() + "/models/tiny-vit");
    }

    @Test
    void theClientReportsVitservesErrors() throws Exception {
        String base = "http://127.0.0.1:" + server.port();
        JsonNode wrongKey = classify(base + "/", "wrong-key", List.of(Fixtures.image("camera-gray.png")));
        assertTrue(wrongKey.get("error").asText().contains("the API key is wrong"), wrongKey.toString());
        JsonNode notAnImage = classify(base + "/", KEY, List.of(Fixtures.image("bad/not-an-image.txt")));
        assertTrue(notAnImage.get("error").asText().contains("not an image in a supported format"), notAnImage.toString());
        JsonNode unknown = classify(base + "/models/no/such-model", KEY, List.of(Fixtures.image("camera-gray.png")));
        assertTrue(unknown.get("error").asText().contains("unknown model 'no/such-model'"), unknown.toString());
    }

    private static void assertReferenceAnswers(String endpoint) throws Exception {
        List<String> photos = Fixtures.photoNames();
        List<Path> files = new ArrayList<>();
        for (String photo : photos) {
            files.add(Fixtures.image(photo));
        }
        JsonNode answer = classify(endpoint, KEY, files);
        JsonNode results = answer.get("results");
        assertEquals(photos.size(), results == null ? -1 : results.size(), answer.toString());
        for (int n = 0; n < photos.size(); n++) {
            JsonNode reference = Fixtures.reference().get("images").get(photos.get(n)).get("top");
            JsonNode result = results.get(n);
            assertEquals(reference.size(), result.size(), photos.get(n) + ": " + result);
            for (int i = 0; i < reference.size(); i++) {
                assertEquals(reference.get(i).get("label").asText(), result.get(i).get("label").asText(),
                        photos.get(n) + " rank " + i);
                assertEquals(reference.get(i).get("score").asDouble(), result.get(i).get("score").asDouble(), 1e-5,
                        photos.get(n) + " rank " + i);
            }
        }
    }

    private static JsonNode classify(String endpoint, String token, List<Path> images) throws Exception {
        List<String> command = new ArrayList<>(List.of("node", "hf-image-classification.mjs", endpoint, token));
        images.forEach(image -> command.add(image.toString()));
        String output = ExternalClient.run(clients, command);
        return JSON.readTree(output.lines().reduce((first, last) -> last).orElse("{}"));
    }
}
