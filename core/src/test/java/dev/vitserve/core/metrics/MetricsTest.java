package dev.vitserve.core.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code /metrics} in Prometheus format: HTTP requests by route and status, and where images spend their time. */
class MetricsTest {

    @Test
    void prometheusMetricsCoverRequestsStagesBatchesAndTheQueue() throws Exception {
        Vertx vertx = Vertx.vertx(ServerMetrics.vertxOptions());
        try (RunningServer server = RunningServer.start(vertx, "fake")) {
            byte[] png = Fixtures.bytes(Fixtures.image("green-palette.png"));
            for (int i = 0; i < 3; i++) {
                assertEquals(200, server.postImage("/v1/classify", png, "image/png").statusCode());
            }
            assertEquals(415, server.postImage("/v1/classify", "text".getBytes(), "image/png").statusCode());
            String metrics = server.get("/metrics").bodyAsString();

            assertEquals(3.0, value(metrics, "vitserve_decode_seconds_count"));
            assertEquals(3.0, value(metrics, "vitserve_preprocess_seconds_count"));
            assertEquals(3.0, value(metrics, "vitserve_inference_seconds_count"));
            assertEquals(3.0, value(metrics, "vitserve_batch_size_count"));
            assertTrue(metrics.contains("vitserve_batch_size_bucket{le=\"1.0\"} 3"), "batch size histogram");
            assertEquals(0.0, value(metrics, "vitserve_queue_depth"));
            assertTrue(value(metrics, "vitserve_model_load_seconds") >= 0, "model load time");
            assertEquals(0.0, value(metrics, "vitserve_rejected_total{reason=\"queue_full\"}"));
            assertTrue(Pattern.compile("vertx_http_server_requests_total\\{code=\"200\",method=\"POST\",route=\"/v1/classify\"} 3")
                    .matcher(metrics).find(), "requests by route and status");
            assertTrue(metrics.contains("code=\"415\",method=\"POST\",route=\"/v1/classify\""), "errors by status");
            assertTrue(metrics.contains("vertx_http_server_response_time_seconds_bucket"), "latency histogram");
        } finally {
            vertx.close().await(30, TimeUnit.SECONDS);
        }
    }

    private static double value(String metrics, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(metrics);
        assertTrue(m.find(), series + " missing from\n" + metrics);
        return Double.parseDouble(m.group(1));
    }
}
