package dev.vitserve.core.protocol.hf;

import static dev.vitserve.core.testing.PlainErrors.assertPlainError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import io.vertx.junit5.VertxExtension;

/**
 * The Hugging Face endpoints take what Hugging Face's clients send (a raw body with or without a
 * Content-Type, JSON with base64 and parameters), answer {@code [{"label", "score"}]} best first,
 * answer {@code /v1/classify}'s scores, and refuse bad input with a {@code {"error": "..."}} 4xx.
 */
@ExtendWith(VertxExtension.class)
class HuggingFaceEndpointsTest {

    static final String KEY = "0123456789abcdef-hf";
    static RunningServer server;
    static byte[] photo;

    @BeforeAll
    static void start(Vertx vertx) throws Exception {
        server = RunningServer.start(vertx, "fake", "--api-key", KEY, "--max-body-size", "1MB");
        photo = Fixtures.bytes(Fixtures.image("astronaut-progressive.jpg"));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static HttpResponse<Buffer> post(String uri, String contentType, Buffer body) throws Exception {
        HttpRequest<Buffer> request = server.client.post(uri).putHeader("Authorization", "Bearer " + KEY);
        if (contentType != null) {
            request.putHeader("Content-Type", contentType);
        }
        return request.sendBuffer(body).await(30, TimeUnit.SECONDS);
    }

    private static JsonArray answer(HttpResponse<Buffer> response) {
        assertEquals(200, response.statusCode(), response.bodyAsString());
        assertTrue(response.getHeader("Content-Type").startsWith("application/json"));
        return response.bodyAsJsonArray();
    }

    @Test
    void aRawBodyWithOrWithoutContentTypeAnswersTheTopFiveOfClassify() throws Exception {
        JsonArray classify = post("/v1/classify", "image/jpeg", Buffer.buffer(photo)).bodyAsJsonObject()
                .getJsonArray("results").getJsonObject(0).getJsonArray("predictions");
        for (String type : new String[] {null, "image/jpeg", "application/octet-stream"}) {
            for (String uri : new String[] {"/", "/models/tiny-vit"}) {
                JsonArray answer = answer(post(uri, type, Buffer.buffer(photo)));
                assertEquals(5, answer.size(), uri + " " + type);
                for (int i = 0; i < answer.size(); i++) {
                    JsonObject item = answer.getJsonObject(i);
                    assertEquals(2, item.size(), item.encode());
                    assertEquals(classify.getJsonObject(i).getString("label"), item.getString("label"));
                    assertEquals(classify.getJsonObject(i).getDouble("score"), item.getDouble("score"), 1e-12);
                }
            }
        }
    }

    @Test
    void jsonWithBase64AndParametersIsHonoured() throws Exception {
        JsonObject body = new JsonObject().put("inputs", Base64.getEncoder().encodeToString(photo))
                .put("parameters", new JsonObject().put("top_k", 3).put("function_to_apply", "none"));
        JsonArray answer = answer(post("/", "application/json", body.toBuffer()));
        JsonArray logits = post("/v1/classify?top_k=3&function=none", "image/jpeg", Buffer.buffer(photo))
                .bodyAsJsonObject().getJsonArray("results").getJsonObject(0).getJsonArray("predictions");
        assertEquals(3, answer.size());
        for (int i = 0; i < 3; i++) {
            assertEquals(logits.getJsonObject(i).getDouble("score"), answer.getJsonObject(i).getDouble("score"), 1e-12);
        }
        JsonArray noParameters = answer(post("/", "application/json",
                new JsonObject().put("inputs", Base64.getEncoder().encodeToString(photo)).toBuffer()));
        assertEquals(5, noParameters.size());
        assertEquals(answer(post("/", null, Buffer.buffer(photo))), noParameters);
    }

    @Test
    void badInputGetsAPlainJsonErrorAndTheServerGoesOn() throws Exception {
        assertTrue(assertPlainError(post("/", null, Buffer.buffer("not an image")), 415).contains("supported format"));
        assertTrue(assertPlainError(post("/", null, Buffer.buffer()), 400).contains("no body"));
        assertTrue(assertPlainError(post("/models/google/vit-base-patch16-224", null, Buffer.buffer(photo)), 404)
                .contains("unknown model 'google/vit-base-patch16-224'"));
        JsonObject badTopK = new JsonObject().put("inputs", Base64.getEncoder().encodeToString(photo))
                .put("parameters", new JsonObject().put("top_k", 0));
        assertTrue(assertPlainError(post("/", "application/json", badTopK.toBuffer()), 400).contains("top_k"));
        JsonObject badFunction = new JsonObject().put("inputs", Base64.getEncoder().encodeToString(photo))
                .put("parameters", new JsonObject().put("function_to_apply", "relu"));
        assertTrue(assertPlainError(post("/", "application/json", badFunction.toBuffer()), 400).contains("function_to_apply"));
        assertTrue(assertPlainError(post("/", "application/json", Buffer.buffer("{\"inputs\": \"A\"}")), 400).contains("base64"));
        assertTrue(assertPlainError(post("/", null, Buffer.buffer(new byte[2 << 20])), 413).contains("exceeds the body limit of"));
        assertEquals(answer(post("/", null, Buffer.buffer(photo))),
                answer(post("/models/tiny-vit", "application/x-www-form-urlencoded", Buffer.buffer(photo))),
                "curl --data-binary @photo.jpg without -H sends the photo as a url-encoded form");
        String multipart = assertPlainError(post("/models/tiny-vit", "multipart/form-data; boundary=x",
                Buffer.buffer(photo)), 415);
        assertTrue(multipart.contains("--data-binary"), multipart);
        assertFalse(multipart.contains("tensor"), "Hugging Face's route takes images, not tensors: " + multipart);
        HttpResponse<Buffer> noKey = server.client.post("/").sendBuffer(Buffer.buffer(photo)).await(30, TimeUnit.SECONDS);
        assertTrue(assertPlainError(noKey, 401).contains("Authorization: Bearer"));
        assertEquals(5, answer(post("/", null, Buffer.buffer(photo))).size());
    }
}
