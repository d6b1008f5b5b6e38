package dev.vitserve.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Finding 9 of issue 23: 64 requests whose image URL hangs (a loopback server that takes the request and never
 * answers) used to hold every --max-requests slot, so every upload got 503 for 20 s. A request waiting for its URL now
 * holds no slot: an upload beside them is answered 200 while they all wait, and the fetches have their own bound
 * (--max-url-fetches), past which a URL gets 503 with Retry-After at once.
 */
@ExtendWith(VertxExtension.class)
class HangingUrlsTest {

    private static final int HANGING = 64;

    @Test
    void requestsWaitingForAHangingUrlHoldNoRequestSlot(Vertx vertx) throws Exception {
        AtomicInteger arrived = new AtomicInteger();
        HttpServer hanging = vertx.createHttpServer().requestHandler(request -> arrived.incrementAndGet())
                .listen(0, "127.0.0.1").await(30, TimeUnit.SECONDS);
        byte[] photo = Files.readAllBytes(Fixtures.image("coffee.jpg"));
        try (RunningServer server = RunningServer.start(vertx, "fake", "--allow-private-urls",
                "--max-requests", "64", "--max-url-fetches", "64", "--url-timeout-ms", "120000")) {
            WebClient client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
                    .setDefaultPort(server.port()), new PoolOptions().setHttp1MaxSize(HANGING + 8));
            String url = "http://127.0.0.1:" + hanging.actualPort() + "/photo.jpg";
            List<Future<HttpResponse<Buffer>>> waiting = new ArrayList<>();
            for (int i = 0; i < HANGING; i++) {
                waiting.add(client.post("/v1/classify").sendJsonObject(new JsonObject().put("url", url + "?" + i)));
            }
            for (int tries = 0; arrived.get() < HANGING && tries < 600; tries++) {
                Thread.sleep(100);
            }
            assertEquals(HANGING, arrived.get(), "every fetch reached the hanging host");

            HttpResponse<Buffer> upload = client.post("/v1/classify").putHeader("Content-Type", "image/jpeg")
                    .sendBuffer(Buffer.buffer(photo)).await(60, TimeUnit.SECONDS);
            assertEquals(200, upload.statusCode(), upload.bodyAsString());
            HttpResponse<Buffer> oneMore = client.post("/v1/classify")
                    .sendJsonObject(new JsonObject().put("url", url)).await(60, TimeUnit.SECONDS);
            assertEquals(503, oneMore.statusCode(), oneMore.bodyAsString());
            assertNotNull(oneMore.getHeader("Retry-After"));
            assertTrue(oneMore.bodyAsString().contains("--max-url-fetches"), oneMore.bodyAsString());
            for (Future<HttpResponse<Buffer>> future : waiting) {
                assertTrue(!future.isComplete(), "the fetches still wait");
            }

            hanging.close().await(30, TimeUnit.SECONDS); // the fetches fail: each request is answered
            for (Future<HttpResponse<Buffer>> future : waiting) {
                int status = future.await(60, TimeUnit.SECONDS).statusCode();
                assertTrue(status == 502 || status == 504, "answered " + status);
            }
            assertEquals(200, client.post("/v1/classify").putHeader("Content-Type", "image/jpeg")
                    .sendBuffer(Buffer.buffer(photo)).await(60, TimeUnit.SECONDS).statusCode());
            client.close();
        } finally {
            hanging.close();
        }
    }
}
