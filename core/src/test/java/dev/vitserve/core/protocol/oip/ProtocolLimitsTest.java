package dev.vitserve.core.protocol.oip;

import static dev.vitserve.core.testing.PlainErrors.assertPlainError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.FakeBackendProvider;
import dev.vitserve.core.testing.OipRestClient;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The limits of {@code /v1/classify} hold on the protocol routes: past the queue or the requests in
 * progress, an Open Inference Protocol or Hugging Face request gets 503 with Retry-After at once,
 * as a {@code {"error": "..."}}, never a 500, and the admitted ones are answered; the images of one
 * request share the pixel limit per request.
 */
@ExtendWith(VertxExtension.class)
class ProtocolLimitsTest {

    @AfterEach
    void reset() {
        FakeBackendProvider.inferDelayMs = 0;
    }

    static void assertSomeRefusedWithRetryAfter(List<Future<HttpResponse<Buffer>>> responses) throws Exception {
        int ok = 0;
        int busy = 0;
        for (Future<HttpResponse<Buffer>> future : responses) {
            HttpResponse<Buffer> response = future.await(60, TimeUnit.SECONDS);
            if (response.statusCode() == 200) {
                ok++;
            } else {
                assertTrue(assertPlainError(response, 503).contains("busy")
                        || response.bodyAsString().contains("requests already"), response.bodyAsString());
                assertNotNull(response.getHeader("Retry-After"));
                busy++;
            }
        }
        assertTrue(ok >= 1 && busy >= 1, ok + " answered, " + busy + " refused");
        assertEquals(responses.size(), ok + busy);
    }

    static List<Future<HttpResponse<Buffer>>> send(int count, Supplier<HttpRequest<Buffer>> request, byte[] body) {
        List<Future<HttpResponse<Buffer>>> responses = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            responses.add(request.get().sendBuffer(Buffer.buffer(body)));
        }
        return responses;
    }

    @Test
    void aFullQueueIs503WithRetryAfterOnBothProtocols(Vertx vertx) throws Exception {
        FakeBackendProvider.inferDelayMs = 300;
        byte[] png = Fixtures.bytes(Fixtures.image("green-palette.png"));
        try (RunningServer server = RunningServer.start(vertx, "fake", "--max-queue", "2")) {
            assertSomeRefusedWithRetryAfter(send(12, () -> server.client.post("/v2/models/tiny-vit/infer")
                    .putHeader("Inference-Header-Content-Length", "0"), png));
            assertSomeRefusedWithRetryAfter(send(12, () -> server.client.post("/models/tiny-vit"), png));
        }
    }

    @Test
    void theImagesOfOneRequestTogetherStayUnderThePixelLimitPerRequest(Vertx vertx) throws Exception {
        byte[] photo = Fixtures.bytes(Fixtures.image("chelsea.png"));
        byte[] two = OipRestClient.lengthPrefixed(List.of(photo, photo));
        try (RunningServer server = RunningServer.start(vertx, "fake", "--max-megapixels", "0.2",
                "--max-request-megapixels", "0.25")) {
            OipRestClient oip = new OipRestClient(server);
            JsonObject header = new JsonObject().put("inputs", new JsonArray().add(OipRestClient.binaryInput("image", "BYTES",
                    List.of(2L), two.length)));
            assertTrue(assertPlainError(oip.postBinary("/v2/models/tiny-vit/infer", header, two), 413)
                    .contains("megapixels"));
            byte[] one = OipRestClient.lengthPrefixed(List.of(photo));
            JsonObject single = new JsonObject().put("inputs", new JsonArray().add(OipRestClient.binaryInput("image", "BYTES",
                    List.of(1L), one.length)));
            assertEquals(200, oip.postBinary("/v2/models/tiny-vit/infer", single, one).statusCode());
        }
    }

    @Test
    void tooManyRequestsInProgressAre503BeforeTheirBodyIsRead(Vertx vertx) throws Exception {
        FakeBackendProvider.inferDelayMs = 300;
        byte[] png = Fixtures.bytes(Fixtures.image("green-palette.png"));
        try (RunningServer server = RunningServer.start(vertx, "fake", "--max-requests", "1")) {
            assertSomeRefusedWithRetryAfter(send(6, () -> server.client.post("/v2/models/tiny-vit/infer")
                    .putHeader("Inference-Header-Content-Length", "0"), png));
            assertSomeRefusedWithRetryAfter(send(6, () -> server.client.post("/"), png));
        }
    }
}
