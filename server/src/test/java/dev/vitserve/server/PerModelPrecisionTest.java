package dev.vitserve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.api.Logits;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Precision is a setting of each model: one server runs a model in fp32 from the command line and the same model in
 * int8 loaded through the management API, each route answering in its own precision and saying so.
 */
@ExtendWith(VertxExtension.class)
class PerModelPrecisionTest {

    static final String KEY = "admin-key-0123456789";

    @Test
    void theSameModelServedInFp32AndInt8SideBySide(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "onnx", "--device", "cpu", "--admin-port", "0",
                "--admin-api-key", KEY, "--admin-model-roots", Fixtures.root().toString())) {
            WebClient admin = WebClient.create(vertx);
            try {
                HttpResponse<Buffer> accepted = admin.post(server.server.adminPort(), "127.0.0.1", "/admin/models")
                        .putHeader("Authorization", "Bearer " + KEY)
                        .sendJsonObject(new JsonObject().put("name", "tiny-int8")
                                .put("model", Fixtures.tinyVit().toString()).put("precision", "int8"))
                        .await(30, TimeUnit.SECONDS);
                assertEquals(202, accepted.statusCode(), accepted.bodyAsString());
            } finally {
                admin.close();
            }
            JsonObject int8 = awaitReady(server, "tiny-int8");
            assertEquals("int8", int8.getString("precision"), int8.encode());
            assertTrue(int8.getJsonObject("build").getString("quantized_layers").startsWith("12 linear layers"),
                    int8.encode());
            JsonObject fp32 = server.get("/v1/models").bodyAsJsonObject();
            assertEquals("fp32", fp32.getString("precision"), "the default model keeps the server's precision");
            for (String photo : Fixtures.photoNames()) {
                byte[] bytes = Fixtures.bytes(Fixtures.image(photo));
                float[] expected = ReferenceParityTest.logits(server.postImage("/v1/classify?function=none&top_k=1000",
                        bytes, "image/*"));
                float[] actual = ReferenceParityTest.logits(server.postImage(
                        "/v1/models/tiny-int8/classify?function=none&top_k=1000", bytes, "image/*"));
                double cosine = Logits.cosineSimilarity(expected, actual);
                assertTrue(cosine >= 0.99, photo + ": cosine " + cosine);
                assertTrue(!java.util.Arrays.equals(expected, actual), photo + ": the int8 route gave the fp32 logits");
            }
        }
    }

    static JsonObject awaitReady(RunningServer server, String name) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            HttpResponse<Buffer> response = server.get("/v1/models/" + name);
            if (response.statusCode() == 200 && "ready".equals(response.bodyAsJsonObject().getString("state"))) {
                return response.bodyAsJsonObject();
            }
            Thread.sleep(50);
        }
        throw new AssertionError(name + " never became ready: " + server.get("/v1/models/" + name).bodyAsString());
    }
}
