package dev.vitserve.server;

import static dev.vitserve.server.ExternalClient.PYTHON;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Triton's gRPC calls vitserve did not write: Python stubs generated from Triton's own grpc_service.proto and
 * model_config.proto, called as tritonclient.grpc calls them (get_model_config, get_inference_statistics,
 * start_stream + async_stream_infer): the configuration decodes in Triton's schema, the stream answers one response
 * per request in order with the reference logits and errors in error_message, the statistics count exactly the
 * images served; and the stream's bounds hold (a flood not read, an oversized message, an idle stream).
 */
@ExtendWith(VertxExtension.class)
class TritonGrpcClientTest {

    @Test
    void configurationStatisticsAndStreamAsTritonclientCallsThem(Vertx vertx) throws Exception {
        Path folder = ExternalClient.tritonGrpcClient("triton_grpc_client.py");
        List<String> photos = Fixtures.photoNames().subList(0, 2);
        try (RunningServer server = RunningServer.start(vertx, "onnx", "--device", "cpu", "--grpc-port", "0")) {
            List<String> command = new ArrayList<>(List.of(PYTHON, "triton_grpc_client.py", "127.0.0.1:"
                    + server.server.grpcPort(), "tiny-vit"));
            photos.forEach(photo -> command.add(Fixtures.image(photo).toString()));
            JsonNode answer = OipGrpcClientTest.JSON.readTree(ExternalClient.run(folder, command).lines()
                    .reduce((a, b) -> b).orElseThrow());
            JsonObject rest = server.get("/v2/models/tiny-vit/config").bodyAsJsonObject();

            JsonNode config = answer.get("config");
            assertEquals("tiny-vit", config.get("name").asText());
            assertEquals("onnxruntime_onnx", config.get("platform").asText());
            assertEquals("onnxruntime", config.get("backend").asText());
            assertEquals(rest.getInteger("max_batch_size"), config.get("max_batch_size").asInt());
            assertEquals("pixel_values", config.at("/input/0/name").asText());
            assertEquals("TYPE_FP32", config.at("/input/0/data_type").asText());
            assertEquals("FORMAT_NCHW", config.at("/input/0/format").asText());
            assertEquals(List.of(3L, 224L, 224L), longs(config.at("/input/0/dims")));
            assertEquals("TYPE_STRING", config.at("/input/1/data_type").asText());
            assertEquals(List.of(1L), longs(config.at("/input/1/dims")));
            assertEquals("logits", config.at("/output/0/name").asText());
            assertEquals(List.of(10L), longs(config.at("/output/0/dims")));
            assertEquals(rest.getJsonObject("dynamic_batching").getLong("max_queue_delay_microseconds"),
                    config.at("/dynamic_batching/max_queue_delay_microseconds").asLong());
            assertEquals("KIND_CPU", config.at("/instance_group/0/kind").asText());
            assertEquals(1, config.at("/instance_group/0/count").asInt());
            assertTrue(answer.get("config_v1_same").asBoolean());
            assertEquals("NOT_FOUND", answer.get("config_unknown").asText());

            OipGrpcClientTest.assertReference(answer.get("unary"), 0, photos.get(0), "unary");
            JsonNode stream = answer.get("stream");
            assertEquals(6, stream.size(), stream.toString());
            List<String> ids = new ArrayList<>();
            stream.forEach(response -> ids.add(response.get("id").asText()));
            assertEquals(List.of("s0", "s1", "s2", "bad-version", "bad-datatype", "s3"), ids);
            assertTrue(stream.get(3).get("error").asText().contains("version '7'"), stream.get(3).toString());
            assertTrue(stream.get(4).get("error").asText().contains("INT32"), stream.get(4).toString());
            int[] streamAt = {0, 1, 2, 5};
            int images = 1;
            for (int i = 0; i < streamAt.length; i++) {
                JsonNode response = stream.get(streamAt[i]);
                JsonNode batch = answer.get("stream_batches").get(i);
                assertEquals(List.of((long) batch.size(), 10L), longs(response.get("shape")));
                for (int k = 0; k < batch.size(); k++) {
                    OipGrpcClientTest.assertReference(response.get("logits"), 10 * k, photos.get(batch.get(k).asInt()),
                            "stream request " + response.get("id").asText() + " image " + k);
                }
                images += batch.size();
            }

            JsonNode before = answer.get("stats_before");
            JsonNode after = answer.get("stats_after");
            assertEquals("tiny-vit", after.get("name").asText());
            assertEquals("1", after.get("version").asText());
            assertEquals(images, after.path("inference_count").asLong() - before.path("inference_count").asLong(0));
            assertEquals(images, after.at("/inference_stats/success/count").asLong()
                    - before.at("/inference_stats/success/count").asLong(0));
            assertEquals(images, after.at("/inference_stats/queue/count").asLong()
                    - before.at("/inference_stats/queue/count").asLong(0));
            long runs = 0;
            long imagesRun = 0;
            for (JsonNode batch : after.get("batch_stats")) {
                long count = batch.at("/compute_infer/count").asLong();
                runs += count;
                imagesRun += count * batch.get("batch_size").asLong();
            }
            assertEquals(after.get("execution_count").asLong(), runs);
            assertEquals(after.get("inference_count").asLong(), imagesRun);
            assertTrue(after.get("last_inference").asLong() > 0);
            assertEquals(List.of("tiny-vit"), texts(answer.get("stats_models")));
        }
    }

    @Test
    void aStreamIsBoundedInFlightInSizeAndInIdleTime(Vertx vertx) throws Exception {
        Path folder = ExternalClient.tritonGrpcClient("triton_grpc_stream_bounds.py");
        long maxBody = 1 << 20;
        try (RunningServer server = RunningServer.start(vertx, "onnx", "--device", "cpu", "--grpc-port", "0",
                "--max-body-size", String.valueOf(maxBody), "--body-timeout-ms", "2000")) {
            JsonNode answer = OipGrpcClientTest.JSON.readTree(ExternalClient.run(folder, List.of(PYTHON,
                    "triton_grpc_stream_bounds.py", "127.0.0.1:" + server.server.grpcPort(), "tiny-vit",
                    String.valueOf(maxBody), "2000")).lines().reduce((a, b) -> b).orElseThrow());
            System.out.println("stream bounds: " + answer);
            // backpressure: once its answers are not read, the server stops reading the stream and the client stalls
            long sent = answer.get("flood_sent_while_unread").asLong();
            assertTrue(answer.get("flood_stalled").asBoolean(), "the client sent on without reading: " + answer);
            assertTrue(sent < 10000, "the client sent all its requests without reading: " + sent);
            assertEquals(sent, answer.get("flood_sent_later").asLong(), "the stalled stream was read again");
            assertEquals(10, answer.get("other_client").size());
            assertEquals(List.of("f0", "f1", "f2", "f3", "f4"), texts(answer.get("flood_first_ids")));
            assertEquals(10, answer.get("after_cancel").size());
            JsonNode oversized = answer.get("oversized");
            assertEquals(2, oversized.size(), oversized.toString());
            assertTrue(oversized.get(0).get("error").asText().contains("--max-body-size"), oversized.toString());
            assertEquals("good", oversized.get(1).get("id").asText());
            assertEquals("", oversized.get(1).get("error").asText());
            JsonNode idle = answer.get("idle");
            assertEquals("before-idle", idle.get(0).get("id").asText());
            assertEquals("DEADLINE_EXCEEDED", idle.get(1).get("rpc_error").asText(), idle.toString());
            assertTrue(idle.get(1).get("details").asText().contains("--body-timeout-ms"), idle.toString());
            // every admitted request of the cancelled flood has given its slot back
            String metrics = server.get("/metrics").bodyAsString();
            assertTrue(metrics.contains("vitserve_requests_in_progress 0.0"), metrics.lines()
                    .filter(line -> line.startsWith("vitserve_requests_in_progress")).toList().toString());
        }
    }

    private static List<Long> longs(JsonNode array) {
        List<Long> values = new ArrayList<>();
        array.forEach(value -> values.add(value.asLong()));
        return values;
    }

    private static List<String> texts(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(value -> values.add(value.asText()));
        return values;
    }
}
