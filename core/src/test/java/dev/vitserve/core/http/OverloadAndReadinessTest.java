package dev.vitserve.core.http;

import static dev.vitserve.core.http.ApiErrorsTest.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.VitServer;
import dev.vitserve.core.config.ServerConfig;
import dev.vitserve.core.image.DecoderWarmUp;
import dev.vitserve.core.image.ImageFormat;
import dev.vitserve.core.testing.FakeBackendProvider;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class OverloadAndReadinessTest {

    @AfterEach
    void reset() {
        FakeBackendProvider.inferDelayMs = 0;
        FakeBackendProvider.openGate = null;
    }

    @Test
    void aFullQueueAnswers503WithRetryAfterAndNeverAnError500(Vertx vertx) throws Exception {
        FakeBackendProvider.inferDelayMs = 300;
        try (RunningServer server = RunningServer.start(vertx, "fake", "--max-queue", "2")) {
            byte[] png = Fixtures.bytes(Fixtures.image("green-palette.png"));
            List<Future<HttpResponse<Buffer>>> responses = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                responses.add(server.client.post("/v1/classify").putHeader("Content-Type", "image/png")
                        .sendBuffer(Buffer.buffer(png)));
            }
            int ok = 0;
            int busy = 0;
            for (Future<HttpResponse<Buffer>> future : responses) {
                HttpResponse<Buffer> response = future.await(60, TimeUnit.SECONDS);
                if (response.statusCode() == 200) {
                    ok++;
                } else {
                    assertError(response, 503, "overloaded");
                    assertNotNull(response.getHeader("Retry-After"));
                    busy++;
                }
            }
            assertTrue(ok >= 3, "the engine's own image and the queued ones succeed: " + ok);
            assertTrue(busy >= 1, "some requests find the queue full: " + busy);
            assertEquals(12, ok + busy);
        }
    }

    @Test
    void readinessIs503UntilTheModelIsLoaded(Vertx vertx) throws Exception {
        FakeBackendProvider.openGate = new CountDownLatch(1);
        ServerConfig config = ServerConfig.fromArgs(Map.of(), "--model", Fixtures.tinyVit().toString(),
                "--backend", "fake", "--port", "0");
        VitServer listening = VitServer.listen(vertx, config).await(30, TimeUnit.SECONDS);
        WebClient client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1"));
        int port = listening.port();
        HttpResponse<Buffer> ready = client.get(port, "127.0.0.1", "/health/ready").send().await(10, TimeUnit.SECONDS);
        assertEquals(503, ready.statusCode());
        assertNotNull(ready.getHeader("Retry-After"));
        assertEquals(200, client.get(port, "127.0.0.1", "/health/live").send().await(10, TimeUnit.SECONDS).statusCode());
        assertError(client.post(port, "127.0.0.1", "/v1/classify").putHeader("Content-Type", "image/png")
                .sendBuffer(Buffer.buffer(Fixtures.bytes(Fixtures.image("green-palette.png")))).await(10, TimeUnit.SECONDS),
                503, "not_ready");
        FakeBackendProvider.openGate.countDown();
        VitServer server = listening.ready().await(30, TimeUnit.SECONDS);
        assertEquals(200, client.get(port, "127.0.0.1", "/health/ready").send().await(10, TimeUnit.SECONDS).statusCode());
        server.close().await(30, TimeUnit.SECONDS);
        client.close();
    }

    @Test
    void readinessWaitsForTheImageDecodersWarmUp(Vertx vertx) throws Exception {
        // the preprocessing workers (the warm-up's threads) held busy: the model loads, the warm-up cannot run yet
        WorkerExecutor workers = vertx.createSharedWorkerExecutor("vitserve-preprocess", 1);
        CountDownLatch hold = new CountDownLatch(1);
        CountDownLatch held = new CountDownLatch(1);
        workers.executeBlocking(() -> {
            held.countDown();
            return hold.await(60, TimeUnit.SECONDS);
        });
        assertTrue(held.await(10, TimeUnit.SECONDS));
        ServerConfig config = ServerConfig.fromArgs(Map.of(), "--model", Fixtures.tinyVit().toString(),
                "--backend", "fake", "--port", "0");
        VitServer listening = VitServer.listen(vertx, config).await(30, TimeUnit.SECONDS);
        WebClient client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1"));
        int port = listening.port();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!"ready".equals(client.get(port, "127.0.0.1", "/v1/models").send().await(10, TimeUnit.SECONDS)
                .bodyAsJsonObject().getJsonArray("models").getJsonObject(0).getString("state"))) {
            assertTrue(System.nanoTime() < deadline, "the model never loaded");
            Thread.sleep(20);
        }
        HttpResponse<Buffer> ready = client.get(port, "127.0.0.1", "/health/ready").send().await(10, TimeUnit.SECONDS);
        assertEquals(503, ready.statusCode(), "the model is loaded but the decoders are not warmed up: " + ready.bodyAsString());
        assertEquals("warming up the image decoders", ready.bodyAsJsonObject().getString("reason"));
        assertTrue(!listening.decoderWarmUp().isComplete() && !listening.ready().isComplete());

        hold.countDown();
        VitServer server = listening.ready().await(30, TimeUnit.SECONDS);
        DecoderWarmUp.Report report = listening.decoderWarmUp().result();
        assertTrue(report.decoded().containsAll(List.of(ImageFormat.JPEG, ImageFormat.PNG, ImageFormat.GIF, ImageFormat.BMP)),
                report.summary());
        assertEquals(ImageFormat.values().length, report.decoded().size() + report.unavailable().size(), report.summary());
        assertEquals(200, client.get(port, "127.0.0.1", "/health/ready").send().await(10, TimeUnit.SECONDS).statusCode());
        server.close().await(30, TimeUnit.SECONDS);
        workers.close();
        client.close();
    }
}
