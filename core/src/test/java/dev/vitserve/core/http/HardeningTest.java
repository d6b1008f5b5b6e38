package dev.vitserve.core.http;

import static dev.vitserve.core.http.ApiErrorsTest.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.FakeBackendProvider;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Limits hold under abuse, and the optional API key and CORS work. */
@ExtendWith(VertxExtension.class)
class HardeningTest {

    static final String KEY = "test-key-0123456789abcdef";

    @AfterEach
    void reset() {
        FakeBackendProvider.inferDelayMs = 0;
    }

    @Test
    void theApiKeyGuardsTheApiButNotHealthThePageOrMetrics(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake", "--api-key", KEY)) {
            byte[] png = Fixtures.bytes(Fixtures.image("green-palette.png"));
            HttpResponse<Buffer> none = server.postImage("/v1/classify", png, "image/png");
            assertError(none, 401, "unauthorized");
            assertTrue(none.getHeader("WWW-Authenticate").startsWith("Bearer"));
            assertError(server.client.post("/v1/classify").putHeader("Authorization", "Bearer wrong-key-000000000")
                    .putHeader("Content-Type", "image/png").sendBuffer(Buffer.buffer(png)).await(30, TimeUnit.SECONDS),
                    401, "unauthorized");
            assertError(server.get("/v1/models"), 401, "unauthorized");
            assertError(server.get("/predict_image_class?image_url=http://example.com/a.png"), 401, "unauthorized");
            assertEquals(200, server.client.post("/v1/classify").putHeader("Authorization", "Bearer " + KEY)
                    .putHeader("Content-Type", "image/png").sendBuffer(Buffer.buffer(png)).await(30, TimeUnit.SECONDS)
                    .statusCode());
            assertEquals(200, server.get("/health/ready").statusCode());
            assertEquals(200, server.get("/openapi.json").statusCode());
            assertEquals(200, server.get("/metrics").statusCode());
        }
    }

    @Test
    void aClientAskingForAnHttp2UpgradeGetsWholeHttp11Answers(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake")) {
            // the JDK's client asks every new connection to upgrade to h2c; /metrics is a large answer
            for (int i = 0; i < 30; i++) {
                var response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                assertEquals(200, response.statusCode());
                assertEquals(HttpClient.Version.HTTP_1_1, response.version());
                assertTrue(response.body().contains("vitserve_requests_in_progress"));
            }
        }
    }

    @Test
    void corsIsOffUnlessOriginsAreConfigured(Vertx vertx) throws Exception {
        try (RunningServer closed = RunningServer.start(vertx, "fake")) {
            assertNull(preflight(closed, "https://app.example.com").getHeader("Access-Control-Allow-Origin"));
        }
        try (RunningServer open = RunningServer.start(vertx, "fake", "--cors-origins", "https://app.example.com")) {
            assertEquals("https://app.example.com",
                    preflight(open, "https://app.example.com").getHeader("Access-Control-Allow-Origin"));
            HttpResponse<Buffer> refused = preflight(open, "https://evil.example.com");
            assertNull(refused.getHeader("Access-Control-Allow-Origin"));
            assertError(refused, 403, "origin_not_allowed");
        }
    }

    private static HttpResponse<Buffer> preflight(RunningServer server, String origin) throws Exception {
        return server.client.request(HttpMethod.OPTIONS, "/v1/classify").putHeader("Origin", origin)
                .putHeader("Access-Control-Request-Method", "POST").send().await(30, TimeUnit.SECONDS);
    }

    @Test
    void pastTheRequestLimitOrTheQueueWaitTheAnswerIs503WithRetryAfter(Vertx vertx) throws Exception {
        FakeBackendProvider.inferDelayMs = 400;
        try (RunningServer server = RunningServer.start(vertx, "fake", "--max-requests", "3",
                "--max-queue-wait-ms", "300")) {
            byte[] png = Fixtures.bytes(Fixtures.image("green-palette.png"));
            List<Future<HttpResponse<Buffer>>> responses = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                responses.add(server.client.post("/v1/classify").putHeader("Content-Type", "image/png")
                        .sendBuffer(Buffer.buffer(png)));
            }
            int ok = 0;
            List<String> codes = new ArrayList<>();
            for (Future<HttpResponse<Buffer>> future : responses) {
                HttpResponse<Buffer> response = future.await(60, TimeUnit.SECONDS);
                if (response.statusCode() == 200) {
                    ok++;
                } else {
                    codes.add(assertError(response, 503, null).getString("code"));
                    assertNotNull(response.getHeader("Retry-After"));
                }
            }
            assertTrue(ok >= 1, "some requests are served");
            assertTrue(codes.stream().allMatch("overloaded"::equals), codes.toString());
            assertTrue(codes.size() >= 5, "past 3 requests in progress, the rest are refused: " + codes);
        }
    }

    @Test
    void aBodyOverTheLimitIsRefusedWhileItStreamsIn(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake", "--max-body-size", "64KB");
             Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = new byte[16 * 1024];
            for (int i = 0; i < 6; i++) {
                out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(chunk);
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            out.flush();
            String head = readHead(socket.getInputStream());
            assertTrue(head.startsWith("HTTP/1.1 413"), "413 before the body ends: " + head);
        }
    }

    @Test
    void aHugePixelCountIsRefusedFromTheHeaderAtOnce(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake")) {
            long start = System.nanoTime();
            assertError(server.postImage("/v1/classify", pngClaiming(50_000, 50_000), "image/png"), 413, "too_many_pixels");
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10));
            // a third of a megapixel, but so elongated that resizing it would cost as much as a huge image
            HttpResponse<Buffer> elongated = server.postImage("/v1/classify", realPng(80_000, 4), "image/png");
            assertError(elongated, 413, "too_many_pixels");
            assertTrue(elongated.bodyAsJsonObject().getJsonObject("error").getString("message").contains("too elongated"));
            assertEquals(200, server.postImage("/v1/classify", Fixtures.bytes(Fixtures.image("green-palette.png")),
                    "image/png").statusCode());
        }
    }

    private static String readHead(InputStream in) throws Exception {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1) {
            head.write(b);
            if (head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
                break;
            }
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    /** A complete grey-gradient RGB PNG of the given size. */
    private static byte[] realPng(int width, int height) throws Exception {
        java.awt.image.BufferedImage image = new java.awt.image.BufferedImage(width, height,
                java.awt.image.BufferedImage.TYPE_3BYTE_BGR);
        for (int x = 0; x < width; x++) {
            image.setRGB(x, 0, (x % 256) * 0x010101);
        }
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        javax.imageio.ImageIO.write(image, "png", png);
        return png.toByteArray();
    }

    /** A valid PNG of a few dozen bytes whose header claims the given size. */
    static byte[] pngClaiming(int width, int height) throws Exception {
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        png.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
        DataOutputStream data = new DataOutputStream(ihdr);
        data.writeInt(width);
        data.writeInt(height);
        data.write(new byte[] {8, 2, 0, 0, 0});
        chunk(png, "IHDR", ihdr.toByteArray());
        Deflater deflater = new Deflater();
        deflater.setInput(new byte[64]);
        deflater.finish();
        byte[] compressed = new byte[128];
        chunk(png, "IDAT", java.util.Arrays.copyOf(compressed, deflater.deflate(compressed)));
        chunk(png, "IEND", new byte[0]);
        return png.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream png, String type, byte[] body) throws Exception {
        DataOutputStream out = new DataOutputStream(png);
        out.writeInt(body.length);
        byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
        out.write(typeBytes);
        out.write(body);
        CRC32 crc = new CRC32();
        crc.update(typeBytes);
        crc.update(body);
        out.writeInt((int) crc.getValue());
    }
}
