package dev.vitserve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The zero-shot routes on the tiny-siglip fixture, served by the onnx and the djl backend: {@code /zero-shot} answers
 * the PyTorch port's logits_per_image ({@code exp(logit_scale) * cos + logit_bias}) and the pipeline's sigmoid scores
 * (within 1e-4), sorted by score, for every photo and label set (texts padded to 64 tokens, a long label truncated
 * there); {@code exp(logit_scale) * cos(image, text) + logit_bias} of what {@code /embed} and {@code /embed-text}
 * answer equals those logits within 1e-4.
 */
@ExtendWith(VertxExtension.class)
class SiglipZeroShotTest {

    private static Vertx vertx;
    private static RunningServer onnx;
    private static RunningServer djl;
    private static WebClient client;
    private static JsonObject reference;

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        onnx = RunningServer.startModel(vertx, Fixtures.tinySiglip(), "onnx", "--device", "cpu", "--warmup-inferences", "1");
        djl = RunningServer.startModel(vertx, Fixtures.tinySiglip(), "djl", "--device", "cpu", "--warmup-inferences", "1");
        client = WebClient.create(vertx);
        reference = new JsonObject(new String(Fixtures.bytes(Fixtures.tinySiglip().resolve("reference.json")),
                StandardCharsets.UTF_8));
    }

    @AfterAll
    static void stop() {
        client.close();
        onnx.close();
        djl.close();
        vertx.close().await();
    }

    private static HttpRequest<Buffer> post(String backend, String uri) {
        return client.post((backend.equals("djl") ? djl : onnx).port(), "127.0.0.1", uri);
    }

    private static JsonObject ok(io.vertx.core.Future<HttpResponse<Buffer>> future) throws Exception {
        HttpResponse<Buffer> response = future.await(60, TimeUnit.SECONDS);
        assertEquals(200, response.statusCode(), response.bodyAsString());
        return response.bodyAsJsonObject();
    }

    private static Buffer photo(String name) {
        return Buffer.buffer(Fixtures.bytes(Fixtures.tinySiglip().resolve("../images").resolve(name).normalize()));
    }

    private static double[] doubles(JsonArray array) {
        double[] values = new double[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = array.getDouble(i);
        }
        return values;
    }

    @ParameterizedTest
    @ValueSource(strings = {"onnx", "djl"})
    void zeroShotAnswersThePortsSigmoidScoresSortedByScore(String backend) throws Exception {
        JsonArray images = reference.getJsonArray("images");
        double worst = 0;
        for (Object setObject : reference.getJsonArray("label_sets")) {
            JsonObject set = (JsonObject) setObject;
            JsonArray labels = set.getJsonArray("labels");
            for (int image = 0; image < images.size(); image++) {
                HttpRequest<Buffer> request = post(backend, "/v1/models/tiny-siglip/zero-shot")
                        .putHeader("Content-Type", "image/*")
                        .addQueryParam("hypothesis_template", set.getString("template"));
                labels.forEach(label -> request.addQueryParam("candidate_labels", (String) label));
                JsonObject answer = ok(request.sendBuffer(photo(images.getString(image))));
                String where = backend + " " + images.getString(image) + " " + labels;
                JsonObject result = answer.getJsonArray("results").getJsonObject(0);
                JsonArray logits = result.getJsonArray("logits_per_image");
                JsonArray expectedLogits = set.getJsonArray("logits_per_image").getJsonArray(image);
                for (int i = 0; i < labels.size(); i++) {
                    assertEquals(expectedLogits.getDouble(i), logits.getDouble(i), 1e-4, where + " logit " + i);
                    worst = Math.max(worst, Math.abs(expectedLogits.getDouble(i) - logits.getDouble(i)));
                }
                JsonArray predictions = result.getJsonArray("predictions");
                assertEquals(labels.size(), predictions.size());
                double previous = Double.POSITIVE_INFINITY;
                for (int k = 0; k < predictions.size(); k++) {
                    JsonObject p = predictions.getJsonObject(k);
                    int index = labels.getList().indexOf(p.getString("label"));
                    assertTrue(index >= 0, where + ": " + p);
                    assertEquals(set.getJsonArray("scores").getJsonArray(image).getDouble(index), p.getDouble("score"),
                            1e-4, where + " " + p);
                    assertEquals(1 / (1 + Math.exp(-logits.getDouble(index))), p.getDouble("score"), 1e-12,
                            where + ": the sigmoid of the label's logit");
                    assertTrue(p.getDouble("score") <= previous, where + ": sorted by score");
                    previous = p.getDouble("score");
                }
            }
        }
        System.out.printf("SiglipZeroShotTest %s: largest logit difference through REST %.3g%n", backend, worst);
    }

    @ParameterizedTest
    @ValueSource(strings = {"onnx", "djl"})
    void scaledCosinePlusBiasOfEmbedAndEmbedTextIsTheLogits(String backend) throws Exception {
        double scale = Math.exp(reference.getDouble("logit_scale"));
        double bias = reference.getDouble("logit_bias");
        JsonArray images = reference.getJsonArray("images");
        for (Object setObject : reference.getJsonArray("label_sets")) {
            JsonObject set = (JsonObject) setObject;
            JsonObject texts = ok(post(backend, "/v1/models/tiny-siglip/embed-text")
                    .sendJsonObject(new JsonObject().put("texts", set.getJsonArray("texts"))));
            assertEquals(20, texts.getInteger("dimensions"));
            JsonArray textResults = texts.getJsonArray("results");
            for (int image = 0; image < images.size(); image++) {
                JsonObject embedded = ok(post(backend, "/v1/models/tiny-siglip/embed")
                        .putHeader("Content-Type", "image/*").sendBuffer(photo(images.getString(image))));
                double[] a = doubles(embedded.getJsonArray("results").getJsonObject(0).getJsonArray("embedding"));
                double[] expectedImage = doubles(reference.getJsonArray("image_embeds").getJsonArray(image));
                for (int j = 0; j < a.length; j++) {
                    assertEquals(expectedImage[j], a[j], 1e-4, images.getString(image) + " embedding " + j);
                }
                for (int t = 0; t < textResults.size(); t++) {
                    double[] b = doubles(textResults.getJsonObject(t).getJsonArray("embedding"));
                    double dot = 0;
                    double na = 0;
                    double nb = 0;
                    for (int j = 0; j < a.length; j++) {
                        dot += a[j] * b[j];
                        na += a[j] * a[j];
                        nb += b[j] * b[j];
                    }
                    double logit = scale * dot / Math.sqrt(na * nb) + bias;
                    assertEquals(set.getJsonArray("logits_per_image").getJsonArray(image).getDouble(t), logit, 1e-4,
                            backend + " " + images.getString(image) + " " + set.getJsonArray("texts").getString(t));
                }
            }
        }
    }
}
