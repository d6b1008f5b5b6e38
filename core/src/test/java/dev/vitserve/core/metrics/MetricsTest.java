package dev.vitserve.core.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code /metrics} in Prometheus format: HTTP requests by route and status, and where images spend their time. */
class MetricsTest {

    @Test
    void prometheusMetricsCoverRequestsStagesBatchesAndTheQueue() throws Exception {
        Vertx vertx = ServerMetrics.newVertx();
        try (RunningServer server = RunningServer.start(vertx, "fake")) {
            byte[] png = Fixtures.bytes(Fixtures.image("green-palette.png"));
            for (int i = 0; i < 3; i++) {
                assertEquals(200, server.postImage("/v1/classify", png, "image/png").statusCode());
            }
            assertEquals(415, server.postImage("/v1/classify", "text".getBytes(), "image/png").statusCode());
            String metrics = server.get("/metrics").bodyAsString();

            assertEquals(3.0, value(metrics, "vitserve_decode_seconds_count{model=\"tiny-vit\"}"));
            assertEquals(3.0, value(metrics, "vitserve_preprocess_seconds_count{model=\"tiny-vit\"}"));
            assertEquals(3.0, value(metrics, "vitserve_inference_seconds_count{model=\"tiny-vit\"}"));
            assertEquals(3.0, value(metrics, "vitserve_batch_size_count{model=\"tiny-vit\"}"));
            assertTrue(metrics.contains("vitserve_batch_size_bucket{model=\"tiny-vit\",le=\"1.0\"} 3"), "batch size histogram");
            assertEquals(0.0, value(metrics, "vitserve_queue_depth{model=\"tiny-vit\"}"));
            assertTrue(value(metrics, "vitserve_model_load_seconds{model=\"tiny-vit\"}") >= 0, "model load time");
            assertEquals(0.0, value(metrics, "vitserve_rejected_total{model=\"tiny-vit\",reason=\"queue_full\"}"));
            assertEquals(1.0, value(metrics, "vitserve_models_loaded"));
            assertTrue(Pattern.compile("vertx_http_server_requests_total\\{code=\"200\",method=\"POST\",route=\"/v1/classify\"} 3")
                    .matcher(metrics).find(), "requests by route and status");
            assertTrue(metrics.contains("code=\"415\",method=\"POST\",route=\"/v1/classify\""), "errors by status");
            assertTrue(metrics.contains("vertx_http_server_response_time_seconds_bucket"), "latency histogram");
        } finally {
            vertx.close().await(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void metricSeriesDoNotGrowWithMethodNamesPagesOrConnectionsCutMidHeaders() throws Exception {
        Vertx vertx = ServerMetrics.newVertx();
        try (RunningServer server = RunningServer.start(vertx, "fake")) {
            byte[] png = Fixtures.bytes(Fixtures.image("green-palette.png"));
            for (int i = 0; i < 20; i++) {
                assertEquals(200, server.postImage("/v1/classify", png, "image/png").statusCode());
                assertEquals(200, server.get("/health/ready").statusCode());
                server.get("/page-" + i + ".html");
            }
            String before = server.get("/metrics").bodyAsString();
            double activeBefore = sum(before, "vertx_http_server_active_requests");
            for (int i = 0; i < 200; i++) {
                server.client.request(HttpMethod.valueOf("Q" + i), "/health/live").send().await(30, TimeUnit.SECONDS);
            }
            for (int i = 0; i < 20; i++) {
                try (Socket socket = new Socket("127.0.0.1", server.port())) {
                    socket.getOutputStream().write("GET /health/live HTTP/1.1\r\nHost: x\r\nX-Cut: ".getBytes(StandardCharsets.US_ASCII));
                    socket.getOutputStream().flush();
                    Thread.sleep(20);
                }
            }
            Thread.sleep(500);
            String after = server.get("/metrics").bodyAsString();
            System.out.printf("/metrics: %d bytes, %d lines after 60 requests; %d bytes after 200 unknown methods%n",
                    before.length(), before.split("\n").length, after.length());
            assertFalse(after.contains("method=\"Q"), "no series named after a client's method");
            assertTrue(after.contains("method=\"other\""), "unknown methods are counted as other");
            assertTrue(after.length() < before.length() + 8_000, "200 unknown methods add a few series at most: "
                    + before.length() + " -> " + after.length() + " bytes");
            assertTrue(before.length() < 100_000, "/metrics after 60 requests: " + before.length() + " bytes");
            assertFalse(after.contains("vertx_http_server_response_bytes"), "no per-request byte histograms");
            assertTrue(after.contains("route=\"page\""), "the page's route is a name");
            assertFalse(after.contains("(?!"), "no raw route regex as a label");
            assertEquals(activeBefore, sum(after, "vertx_http_server_active_requests"),
                    "connections closed mid-headers leave no request counted as active");
        } finally {
            vertx.close().await(30, TimeUnit.SECONDS);
        }
    }

    private static double sum(String metrics, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*})? (\\S+)$").matcher(metrics);
        double total = 0;
        while (m.find()) {
            total += Double.parseDouble(m.group(2));
        }
        return total;
    }

    private static double value(String metrics, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(metrics);
        assertTrue(m.find(), series + " missing from\n" + metrics);
        return Double.parseDouble(m.group(1));
    }
}
