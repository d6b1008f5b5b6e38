package dev.vitserve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The trained digits CLIP served on each backend: {@code /zero-shot} on every one of the 300 validation digits with the
 * labels "zero".."nine" and the template "a photo of the digit {}." is at least 90% accurate, and every answer has the
 * PyTorch port's prediction and scores (within 1e-4); through {@code @huggingface/inference}'s
 * zeroShotImageClassification the same predictions and accuracy.
 */
class DigitsClipZeroShotTest {

    private static final int IN_FLIGHT = 16;

    private static Vertx vertx;
    private static WebClient client;
    private static JsonObject reference;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
        client = WebClient.create(vertx);
        reference = new JsonObject(new String(Fixtures.bytes(Fixtures.digitsClip().resolve("reference-zero-shot.json")),
                StandardCharsets.UTF_8));
    }

    @AfterAll
    static void stop() {
        client.close();
        vertx.close().await();
    }

    @ParameterizedTest
    @ValueSource(strings = {"onnx", "djl"})
    void zeroShotOnTheValidationDigitsIsAccurateAndEqualsThePort(String backend) throws Exception {
        List<Fixtures.LabelledImage> images = Fixtures.digitsValidation();
        JsonArray expected = reference.getJsonArray("images");
        JsonArray labels = reference.getJsonArray("labels");
        assertEquals(300, images.size());
        assertEquals(images.size(), expected.size());
        try (RunningServer server = RunningServer.startModel(vertx, Fixtures.digitsClip(), backend, "--device", "cpu",
                "--warmup-inferences", "1")) {
            int correct = 0;
            for (int start = 0; start < images.size(); start += IN_FLIGHT) {
                List<Future<HttpResponse<Buffer>>> answers = new ArrayList<>();
                for (int i = start; i < Math.min(images.size(), start + IN_FLIGHT); i++) {
                    HttpRequest<Buffer> request = client.post(server.port(), "127.0.0.1", "/v1/models/digits-clip/zero-shot");
                    for (Object label : labels) {
                        request.addQueryParam("candidate_labels", (String) label);
                    }
                    request.addQueryParam("hypothesis_template", reference.getString("template"));
                    answers.add(request.sendBuffer(Buffer.buffer(Fixtures.bytes(images.get(i).file()))));
                }
                Future.all(answers).await(120, TimeUnit.SECONDS);
                for (int k = 0; k < answers.size(); k++) {
                    int i = start + k;
                    String where = backend + " " + images.get(i).file().getFileName();
                    HttpResponse<Buffer> response = answers.get(k).result();
                    assertEquals(200, response.statusCode(), response.bodyAsString());
                    JsonObject want = expected.getJsonObject(i);
                    assertEquals(images.get(i).file().getFileName().toString(), want.getString("image"));
                    JsonArray predictions = response.bodyAsJsonObject().getJsonArray("results").getJsonObject(0)
                            .getJsonArray("predictions");
                    assertEquals(labels.size(), predictions.size(), where);
                    assertEquals(want.getString("prediction"), predictions.getJsonObject(0).getString("label"), where);
                    for (Object item : predictions) {
                        JsonObject p = (JsonObject) item;
                        int index = labels.getList().indexOf(p.getString("label"));
                        assertTrue(index >= 0, where + ": " + p);
                        assertEquals(want.getJsonArray("scores").getDouble(index), p.getDouble("score"), 1e-4, where + " " + p);
                    }
                    int digit = Integer.parseInt(images.get(i).label());
                    if (predictions.getJsonObject(0).getString("label").equals(labels.getString(digit))) {
                        correct++;
                    }
                }
            }
            double accuracy = correct / (double) images.size();
            System.out.printf("digits-clip zero-shot accuracy (%s): %.4f%n", backend, accuracy);
            assertTrue(accuracy >= 0.90, backend + " accuracy " + accuracy);
            assertEquals(reference.getDouble("accuracy"), accuracy, 1e-9, backend + " accuracy equals the port's");
        }
    }

    @Test
    void huggingFacesOwnClientGetsThePortsPredictionsOnTheValidationDigits() throws Exception {
        java.nio.file.Path clients = ExternalClient.npmPackages();
        ExternalClient.scripts("hf-zero-shot.mjs");
        List<Fixtures.LabelledImage> images = Fixtures.digitsValidation();
        JsonArray expected = reference.getJsonArray("images");
        try (RunningServer server = RunningServer.startModel(vertx, Fixtures.digitsClip(), "onnx", "--device", "cpu",
                "--warmup-inferences", "1")) {
            List<String> command = new ArrayList<>(List.of("node", "hf-zero-shot.mjs",
                    "http://127.0.0.1:" + server.port() + "/models/digits-clip", "-",
                    reference.getJsonArray("labels").encode(), reference.getString("template")));
            images.forEach(image -> command.add(image.file().toString()));
            String output = ExternalClient.run(clients, command);
            JsonObject answer = new JsonObject(output.lines().reduce((first, last) -> last).orElse("{}"));
            JsonArray results = answer.getJsonArray("results");
            assertTrue(results != null && results.size() == images.size(), answer.encode());
            int correct = 0;
            for (int i = 0; i < images.size(); i++) {
                JsonObject top = results.getJsonArray(i).getJsonObject(0);
                assertEquals(expected.getJsonObject(i).getString("prediction"), top.getString("label"),
                        images.get(i).file().getFileName().toString());
                if (top.getString("label").equals(expected.getJsonObject(i).getString("label"))) {
                    correct++;
                }
            }
            double accuracy = correct / (double) images.size();
            System.out.printf("digits-clip zero-shot accuracy (@huggingface/inference, onnx): %.4f%n", accuracy);
            assertTrue(accuracy >= 0.90, "accuracy " + accuracy);
        }
    }
}
