package dev.vitserve.core.protocol.oip;

import static dev.vitserve.core.testing.OipRestClient.lengthPrefixed;
import static dev.vitserve.core.testing.PlainErrors.assertPlainError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.OipRestClient;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Triton's REST model configuration and statistics, read with plain HTTP as Triton's documentation writes them
 * (tritonclient.http's get_model_config and get_inference_statistics ask these paths): the configuration in
 * model_config.proto's JSON form, and statistics that count exactly the images served, equal to the /metrics figures.
 */
@ExtendWith(VertxExtension.class)
class TritonConfigStatisticsRestTest {

    static RunningServer server;
    static byte[] photo;

    @BeforeAll
    static void start(Vertx vertx) throws Exception {
        server = RunningServer.start(vertx, "fake", "--max-files", "4", "--max-batch", "4", "--max-batch-delay-ms", "7",
                "--max-queue", "50");
        photo = Fixtures.bytes(Fixtures.image("astronaut-progressive.jpg"));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void configurationIsTritonsModelConfigJson() throws Exception {
        JsonObject config = server.get("/v2/models/tiny-vit/config").bodyAsJsonObject();
        assertEquals("tiny-vit", config.getString("name"));
        assertEquals("fake", config.getString("backend"));
        assertEquals(4, config.getInteger("max_batch_size"));
        JsonArray inputs = config.getJsonArray("input");
        assertEquals(new JsonObject().put("name", "pixel_values").put("data_type", "TYPE_FP32")
                .put("format", "FORMAT_NCHW").put("dims", new JsonArray(List.of(3, 224, 224))).put("optional", true),
                inputs.getJsonObject(0));
        assertEquals(new JsonObject().put("name", "image").put("data_type", "TYPE_STRING").put("format", "FORMAT_NONE")
                .put("dims", new JsonArray(List.of(1))).put("optional", true), inputs.getJsonObject(1));
        assertEquals(new JsonObject().put("name", "logits").put("data_type", "TYPE_FP32")
                .put("dims", new JsonArray(List.of(10))), config.getJsonArray("output").getJsonObject(0));
        JsonObject batching = config.getJsonObject("dynamic_batching");
        assertEquals(7000, batching.getLong("max_queue_delay_microseconds"));
        assertEquals(50, batching.getJsonObject("default_queue_policy").getInteger("max_queue_size"));
        assertEquals("REJECT", batching.getJsonObject("default_queue_policy").getString("timeout_action"));
        JsonObject group = config.getJsonArray("instance_group").getJsonObject(0);
        assertEquals("KIND_CPU", group.getString("kind"));
        assertEquals(1, group.getInteger("count"));
        assertEquals("fake", config.getJsonObject("parameters").getJsonObject("vitserve_backend")
                .getString("string_value"));
        assertEquals(config, server.get("/v2/models/tiny-vit/versions/1/config").bodyAsJsonObject());
        assertTrue(assertPlainError(server.get("/v2/models/tiny-vit/versions/2/config"), 404).contains("version '2'"));
        assertTrue(assertPlainError(server.get("/v2/models/nope/config"), 404).contains("unknown model 'nope'"));
    }

    @Test
    void statisticsCountExactlyTheImagesServedAsMetricsDo() throws Exception {
        OipRestClient oip = new OipRestClient(server);
        JsonObject before = stats("/v2/models/tiny-vit/stats");
        long startMillis = System.currentTimeMillis();
        List<Integer> sizes = List.of(1, 2, 3, 4, 1);
        for (int size : sizes) {
            byte[] images = lengthPrefixed(Collections.nCopies(size, photo));
            JsonObject header = new JsonObject().put("inputs", new JsonArray().add(OipRestClient.binaryInput("image",
                    "BYTES", List.of((long) size), images.length)));
            assertEquals(200, oip.postBinary("/v2/models/tiny-vit/infer", header, images).statusCode());
        }
        long endMillis = System.currentTimeMillis();
        JsonObject after = stats("/v2/models/tiny-vit/stats");
        int images = sizes.stream().mapToInt(Integer::intValue).sum();
        assertEquals("tiny-vit", after.getString("name"));
        assertEquals("1", after.getString("version"));
        assertEquals(images, after.getLong("inference_count") - before.getLong("inference_count"));
        JsonObject inference = after.getJsonObject("inference_stats");
        JsonObject earlier = before.getJsonObject("inference_stats");
        for (String stat : List.of("success", "queue", "compute_input")) {
            assertEquals(images, count(inference, stat) - count(earlier, stat), stat);
        }
        assertEquals(0, count(inference, "fail"));
        assertTrue(inference.getJsonObject("success").getLong("ns") > 0);
        long lastInference = after.getLong("last_inference");
        assertTrue(lastInference >= startMillis && lastInference <= endMillis, lastInference + " not in the test");
        // the batches: every image in one run of some size, and as many runs as batch_stats counts
        long runs = 0;
        long imagesRun = 0;
        for (Object entry : after.getJsonArray("batch_stats")) {
            JsonObject batch = (JsonObject) entry;
            long count = batch.getJsonObject("compute_infer").getLong("count");
            runs += count;
            imagesRun += count * batch.getLong("batch_size");
            assertTrue(batch.getLong("batch_size") >= 1 && batch.getLong("batch_size") <= 4, batch.encode());
        }
        assertEquals(after.getLong("execution_count"), runs);
        assertEquals(after.getLong("inference_count"), imagesRun);
        assertEquals(after.getLong("execution_count"), count(inference, "compute_infer"));
        // the same figures as /metrics
        String metrics = server.get("/metrics").bodyAsString();
        assertEquals(after.getLong("inference_count"), (long) metric(metrics, "vitserve_batch_size_sum", ""));
        assertEquals(after.getLong("execution_count"), (long) metric(metrics, "vitserve_batch_size_count", ""));
        assertEquals(count(inference, "success"), (long) metric(metrics, "vitserve_images_seconds_count",
                ",outcome=\"success\""));
        for (Object entry : after.getJsonArray("batch_stats")) {
            JsonObject batch = (JsonObject) entry;
            assertEquals(batch.getJsonObject("compute_infer").getLong("count"), (long) metric(metrics,
                    "vitserve_batch_runs_seconds_count", ",batch_size=\"" + batch.getLong("batch_size") + "\""));
        }
        assertEquals(Math.round(metric(metrics, "vitserve_last_inference_timestamp_seconds", "") * 1000), lastInference);
        // every model's, and the version's form
        JsonArray all = server.get("/v2/models/stats").bodyAsJsonObject().getJsonArray("model_stats");
        assertEquals(List.of("tiny-vit"), all.stream().map(s -> ((JsonObject) s).getString("name")).toList());
        assertEquals(after.getLong("inference_count"), stats("/v2/models/tiny-vit/versions/1/stats")
                .getLong("inference_count"));
        assertTrue(assertPlainError(server.get("/v2/models/nope/stats"), 404).contains("unknown model 'nope'"));
    }

    private static JsonObject stats(String path) throws Exception {
        JsonArray models = server.get(path).bodyAsJsonObject().getJsonArray("model_stats");
        assertEquals(1, models.size());
        return models.getJsonObject(0);
    }

    private static long count(JsonObject inference, String stat) {
        return inference.getJsonObject(stat).getLong("count");
    }

    /** A series of the model's from the Prometheus text: {@code name{model="tiny-vit"<more>} value}. */
    private static double metric(String metrics, String name, String moreLabels) {
        List<Double> values = new ArrayList<>();
        Matcher matcher = Pattern.compile("(?m)^" + name + "\\{([^}]*)\\} (\\S+)$").matcher(metrics);
        while (matcher.find()) {
            String labels = matcher.group(1);
            if (labels.contains("model=\"tiny-vit\"") && (moreLabels.isEmpty() || labels.contains(moreLabels.substring(1)))) {
                values.add(Double.parseDouble(matcher.group(2)));
            }
        }
        assertEquals(1, values.size(), name + moreLabels + " in " + metrics);
        return values.get(0);
    }
}
