package dev.vitserve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The zero-shot routes on the tiny-clip fixture, served by the onnx and the djl backend: {@code /zero-shot} gives the
 * PyTorch port's logits_per_image and pipeline scores (within 1e-4) for every photo and label set, with the labels given as
 * query fields, in a JSON body or as multipart form fields; {@code /embed} and {@code /embed-text} the port's image
 * and text embeddings; the Hugging Face route ({@code POST /models/tiny-clip} and {@code POST /}, over plain HTTP and
 * from {@code @huggingface/inference}) the same scores; bad requests and requests for the wrong task are clear 4xx, and the server keeps serving.
 */
@ExtendWith(VertxExtension.class)
class ZeroShotTest {

    private static Vertx vertx;
    private static RunningServer server;
    private static RunningServer djl;
    private static WebClient client;
    private static JsonObject reference;

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        server = RunningServer.startModel(vertx, Fixtures.tinyClip(), "onnx", "--device", "cpu", "--grpc-port", "0",
                "--warmup-inferences", "1", "--model", Fixtures.tinyVit().toString());
        djl = RunningServer.startModel(vertx, Fixtures.tinyClip(), "djl", "--device", "cpu", "--warmup-inferences", "1");
        client = WebClient.create(vertx);
        reference = new JsonObject(new String(Fixtures.bytes(Fixtures.tinyClip().resolve("reference.json")),
                java.nio.charset.StandardCharsets.UTF_8));
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
        djl.close();
        vertx.close().await();
    }

    private static HttpRequest<Buffer> post(String uri) {
        return post("onnx", uri);
    }

    private static HttpRequest<Buffer> post(String backend, String uri) {
        return client.post((backend.equals("djl") ? djl : server).port(), "127.0.0.1", uri);
    }

    private static HttpResponse<Buffer> await(io.vertx.core.Future<HttpResponse<Buffer>> response) throws Exception {
        return response.await(60, TimeUnit.SECONDS);
    }

    private static JsonObject ok(HttpResponse<Buffer> response) {
        assertEquals(200, response.statusCode(), response.bodyAsString());
        return response.bodyAsJsonObject();
    }

    private static void refused(HttpResponse<Buffer> response, int status, String code) {
        assertEquals(status, response.statusCode(), response.bodyAsString());
        assertEquals(code, response.bodyAsJsonObject().getJsonObject("error").getString("code"), response.bodyAsString());
    }

    private static byte[] photo(String name) {
        return Fixtures.bytes(Fixtures.tinyClip().resolve("../images").resolve(name).normalize());
    }

    /** Checks one image's answer against the reference of a label set. */
    private static void matches(JsonObject result, JsonObject set, int image, String where) {
        JsonArray logits = result.getJsonArray("logits_per_image");
        JsonArray expectedLogits = set.getJsonArray("logits_per_image").getJsonArray(image);
        JsonArray expectedScores = set.getJsonArray("scores").getJsonArray(image);
        JsonArray labels = set.getJsonArray("labels");
        for (int i = 0; i < labels.size(); i++) {
            assertEquals(expectedLogits.getDouble(i), logits.getDouble(i), 1e-4, where + " logit " + i);
        }
        JsonArray predictions = result.getJsonArray("predictions");
        assertEquals(labels.size(), predictions.size());
        double previous = Double.POSITIVE_INFINITY;
        for (int k = 0; k < predictions.size(); k++) {
            JsonObject p = predictions.getJsonObject(k);
            int index = labels.getList().indexOf(p.getString("label"));
            assertTrue(index >= 0, where + ": " + p);
            assertEquals(expectedScores.getDouble(index), p.getDouble("score"), 1e-4, where + " " + p);
            assertTrue(p.getDouble("score") <= previous, where + ": sorted by score");
            previous = p.getDouble("score");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"onnx", "djl"})
    void zeroShotGivesThePortsLogitsAndScoresForEveryPhotoAndLabelSet(String backend) throws Exception {
        JsonArray images = reference.getJsonArray("images");
        for (Object setObject : reference.getJsonArray("label_sets")) {
            JsonObject set = (JsonObject) setObject;
            for (int image = 0; image < images.size(); image++) {
                HttpRequest<Buffer> request = post(backend, "/v1/models/tiny-clip/zero-shot")
                        .putHeader("Content-Type", "image/*");
                for (Object label : set.getJsonArray("labels")) {
                    request.addQueryParam("candidate_labels", (String) label);
                }
                if (!set.getString("template").equals("This is a photo of {}.")) {
                    request.addQueryParam("hypothesis_template", set.getString("template"));
                }
                JsonObject answer = ok(await(request.sendBuffer(Buffer.buffer(photo(images.getString(image))))));
                assertEquals("zero-shot-image-classification", answer.getString("task"));
                assertEquals(set.getString("template"), answer.getString("hypothesis_template"));
                matches(answer.getJsonArray("results").getJsonObject(0), set, image,
                        backend + " " + images.getString(image) + " " + set.getJsonArray("labels"));
            }
        }
    }

    @Test
    void labelsInAJsonBodyOrAsFormFieldsAnswerTheSame() throws Exception {
        JsonObject set = reference.getJsonArray("label_sets").getJsonObject(1);
        String name = reference.getJsonArray("images").getString(0);
        byte[] bytes = photo(name);
        JsonObject json = ok(await(post("/v1/models/tiny-clip/zero-shot").sendJsonObject(new JsonObject()
                .put("image", Base64.getEncoder().encodeToString(bytes))
                .put("candidate_labels", set.getJsonArray("labels")))));
        matches(json.getJsonArray("results").getJsonObject(0), set, 0, "JSON body");
        assertEquals("tiny-clip", json.getString("model"), "the name asked for, not the folder");
        MultipartForm form = MultipartForm.create().binaryFileUpload("image", name, Buffer.buffer(bytes), "image/png");
        for (Object label : set.getJsonArray("labels")) {
            form.attribute("candidate_labels", (String) label);
        }
        JsonObject multipart = ok(await(post("/v1/models/tiny-clip/zero-shot").sendMultipartForm(form)));
        matches(multipart.getJsonArray("results").getJsonObject(0), set, 0, "multipart");
        assertEquals(name, multipart.getJsonArray("results").getJsonObject(0).getString("name"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"onnx", "djl"})
    void embedAndEmbedTextGiveThePortsProjections(String backend) throws Exception {
        JsonArray images = reference.getJsonArray("images");
        for (int image = 0; image < images.size(); image++) {
            JsonObject answer = ok(await(post(backend, "/v1/models/tiny-clip/embed").putHeader("Content-Type", "image/*")
                    .sendBuffer(Buffer.buffer(photo(images.getString(image))))));
            assertEquals(12, answer.getInteger("dimensions"));
            JsonArray embedding = answer.getJsonArray("results").getJsonObject(0).getJsonArray("embedding");
            JsonArray expected = reference.getJsonArray("image_embeds").getJsonArray(image);
            for (int j = 0; j < 12; j++) {
                assertEquals(expected.getDouble(j), embedding.getDouble(j), 1e-4, images.getString(image) + " " + j);
            }
        }
        JsonObject set = reference.getJsonArray("label_sets").getJsonObject(2);
        JsonObject answer = ok(await(post(backend, "/v1/models/tiny-clip/embed-text")
                .sendJsonObject(new JsonObject().put("texts", set.getJsonArray("texts")))));
        assertEquals(12, answer.getInteger("dimensions"));
        for (int t = 0; t < set.getJsonArray("texts").size(); t++) {
            JsonArray embedding = answer.getJsonArray("results").getJsonObject(t).getJsonArray("embedding");
            JsonArray expected = set.getJsonArray("text_embeds").getJsonArray(t);
            for (int j = 0; j < 12; j++) {
                assertEquals(expected.getDouble(j), embedding.getDouble(j), 1e-4, "text " + t + " " + j);
            }
        }
        JsonArray unit = ok(await(post(backend, "/v1/models/tiny-clip/embed-text?normalize=true")
                .sendJsonObject(new JsonObject().put("texts", new JsonArray().add("a cat")))))
                .getJsonArray("results").getJsonObject(0).getJsonArray("embedding");
        double length = 0;
        for (int j = 0; j < unit.size(); j++) {
            length += unit.getDouble(j) * unit.getDouble(j);
        }
        assertEquals(1.0, Math.sqrt(length), 1e-5);
    }

    /** Checks a Hugging Face answer, [{label, score}] best first, against the reference of a label set. */
    private static void matchesHuggingFace(JsonArray answer, JsonObject set, int image, String where) {
        JsonArray labels = set.getJsonArray("labels");
        JsonArray expectedScores = set.getJsonArray("scores").getJsonArray(image);
        assertEquals(labels.size(), answer.size(), where + ": every label, " + answer);
        double previous = Double.POSITIVE_INFINITY;
        for (int k = 0; k < answer.size(); k++) {
            JsonObject p = answer.getJsonObject(k);
            assertEquals(2, p.size(), where + ": label and score only, " + p);
            int index = labels.getList().indexOf(p.getString("label"));
            assertTrue(index >= 0, where + ": " + p);
            assertEquals(expectedScores.getDouble(index), p.getDouble("score"), 1e-4, where + " " + p);
            assertTrue(p.getDouble("score") <= previous, where + ": sorted by score");
            previous = p.getDouble("score");
        }
    }

    @Test
    void theHuggingFaceRouteScoresAsThePortOverPlainHttp() throws Exception {
        JsonArray images = reference.getJsonArray("images");
        for (Object setObject : reference.getJsonArray("label_sets")) {
            JsonObject set = (JsonObject) setObject;
            JsonObject parameters = new JsonObject().put("candidate_labels", set.getJsonArray("labels"))
                    .put("hypothesis_template", set.getString("template"));
            for (int image = 0; image < images.size(); image++) {
                String base64 = Base64.getEncoder().encodeToString(photo(images.getString(image)));
                String where = images.getString(image) + " " + set.getJsonArray("labels");
                HttpResponse<Buffer> named = await(post("/models/tiny-clip").sendJsonObject(new JsonObject()
                        .put("inputs", base64).put("parameters", parameters)));
                assertEquals(200, named.statusCode(), named.bodyAsString());
                matchesHuggingFace(named.bodyAsJsonArray(), set, image, "POST /models/tiny-clip " + where);
                // the server's default model is tiny-clip: POST / with {"inputs": {"image": ...}}
                HttpResponse<Buffer> root = await(post("/").sendJsonObject(new JsonObject()
                        .put("inputs", new JsonObject().put("image", base64)).put("parameters", parameters)));
                assertEquals(200, root.statusCode(), root.bodyAsString());
                matchesHuggingFace(root.bodyAsJsonArray(), set, image, "POST / " + where);
            }
        }
        // a raw image body takes the labels from the query
        JsonObject set = reference.getJsonArray("label_sets").getJsonObject(0);
        HttpRequest<Buffer> raw = post("/models/tiny-clip").putHeader("Content-Type", "image/png");
        for (Object label : set.getJsonArray("labels")) {
            raw.addQueryParam("candidate_labels", (String) label);
        }
        raw.addQueryParam("hypothesis_template", set.getString("template"));
        HttpResponse<Buffer> answer = await(raw.sendBuffer(Buffer.buffer(photo(images.getString(0)))));
        assertEquals(200, answer.statusCode(), answer.bodyAsString());
        matchesHuggingFace(answer.bodyAsJsonArray(), set, 0, "raw body");
        // the REST route's bounds
        String image = Base64.getEncoder().encodeToString(photo("chelsea.png"));
        for (Object[] bad : new Object[][] {
            {new JsonObject(), 400, "no candidate_labels"},
            {new JsonObject().put("candidate_labels", new JsonArray()), 400, "is empty"},
            {new JsonObject().put("candidate_labels", new JsonArray(java.util.Collections.nCopies(101, "x"))), 413,
                "at most 100"},
            {new JsonObject().put("candidate_labels", new JsonArray().add("x".repeat(301))), 413, "at most 300"},
            {new JsonObject().put("candidate_labels", new JsonArray().add("cat")).put("hypothesis_template", "no place"),
                400, "has no {}"}}) {
            HttpResponse<Buffer> refused = await(post("/models/tiny-clip").sendJsonObject(new JsonObject()
                    .put("inputs", image).put("parameters", bad[0])));
            assertEquals(bad[1], refused.statusCode(), refused.bodyAsString());
            String error = refused.bodyAsJsonObject().getValue("error").toString();
            assertTrue(error.contains(bad[2].equals("no candidate_labels") ? "candidate_labels" : (String) bad[2]),
                    refused.bodyAsString());
        }
        HttpResponse<Buffer> noLabels = await(post("/models/tiny-clip").putHeader("Content-Type", "image/png")
                .sendBuffer(Buffer.buffer(photo("chelsea.png"))));
        assertEquals(400, noLabels.statusCode(), noLabels.bodyAsString());
        // a classifier at the same door still classifies
        HttpResponse<Buffer> classified = await(post("/models/tiny-vit").putHeader("Content-Type", "image/png")
                .sendBuffer(Buffer.buffer(photo("chelsea.png"))));
        assertEquals(200, classified.statusCode(), classified.bodyAsString());
    }

    @Test
    void huggingFacesOwnClientsZeroShotImageClassificationScoresAsThePort() throws Exception {
        java.nio.file.Path clients = ExternalClient.npmPackages();
        ExternalClient.scripts("hf-zero-shot.mjs");
        JsonArray images = reference.getJsonArray("images");
        for (String endpoint : List.of("http://127.0.0.1:" + server.port() + "/models/tiny-clip",
                "http://127.0.0.1:" + server.port() + "/")) {
            for (Object setObject : reference.getJsonArray("label_sets")) {
                JsonObject set = (JsonObject) setObject;
                List<String> command = new ArrayList<>(List.of("node", "hf-zero-shot.mjs", endpoint, "-",
                        set.getJsonArray("labels").encode(), set.getString("template")));
                for (int image = 0; image < images.size(); image++) {
                    command.add(Fixtures.tinyClip().resolve("../images").resolve(images.getString(image)).normalize()
                            .toString());
                }
                String output = ExternalClient.run(clients, command);
                JsonObject answer = new JsonObject(output.lines().reduce((first, last) -> last).orElse("{}"));
                JsonArray results = answer.getJsonArray("results");
                assertTrue(results != null && results.size() == images.size(), answer.encode());
                for (int image = 0; image < images.size(); image++) {
                    matchesHuggingFace(results.getJsonArray(image), set, image, endpoint + " "
                            + images.getString(image) + " " + set.getJsonArray("labels"));
                }
            }
        }
    }

    private static void close(JsonArray expected, JsonArray actual, String where) {
        assertEquals(expected.size(), actual.size(), where);
        for (int j = 0; j < expected.size(); j++) {
            assertEquals(expected.getDouble(j), actual.getDouble(j), 1e-4, where + " " + j);
        }
    }

    /** A row of an OIP output, [rows, width] flattened in JSON's data or nested in the gRPC script's. */
    private static JsonArray row(JsonObject output, int row) {
        JsonArray data = output.getJsonArray("data");
        if (data.getValue(0) instanceof JsonArray) {
            return data.getJsonArray(row);
        }
        int width = output.getJsonArray("shape").getInteger(1);
        return new JsonArray(data.getList().subList(row * width, (row + 1) * width));
    }

    /** The four outputs of an image + text request for one image against the reference. */
    private static void matchesOip(java.util.Map<String, JsonObject> outputs, JsonObject set, int image, int row,
                                   String where) {
        JsonArray labels = set.getJsonArray("labels");
        assertEquals(new JsonArray().add(outputs.get("probabilities").getJsonArray("shape").getInteger(0))
                .add(labels.size()), outputs.get("probabilities").getJsonArray("shape"), where);
        close(set.getJsonArray("logits_per_image").getJsonArray(image), row(outputs.get("logits_per_image"), row),
                where + " logits_per_image");
        close(set.getJsonArray("scores").getJsonArray(image), row(outputs.get("probabilities"), row),
                where + " probabilities");
        close(reference.getJsonArray("image_embeds").getJsonArray(image), row(outputs.get("image_embeds"), row),
                where + " image_embeds");
        for (int t = 0; t < labels.size(); t++) {
            close(set.getJsonArray("text_embeds").getJsonArray(t), row(outputs.get("text_embeds"), t),
                    where + " text_embeds " + t);
        }
    }

    private static java.util.Map<String, JsonObject> byName(JsonArray outputs) {
        java.util.Map<String, JsonObject> map = new java.util.LinkedHashMap<>();
        for (Object output : outputs) {
            map.put(((JsonObject) output).getString("name"), (JsonObject) output);
        }
        return map;
    }

    @Test
    void oipRestTakesAnImageAndTheLabelsAsTextOrTheTextAlone() throws Exception {
        HttpResponse<Buffer> metadataResponse = await(client.get(server.port(), "127.0.0.1", "/v2/models/tiny-clip")
                .send());
        assertEquals(200, metadataResponse.statusCode(), metadataResponse.bodyAsString());
        JsonObject metadata = metadataResponse.bodyAsJsonObject();
        assertEquals(List.of("pixel_values", "image", "text"), metadata.getJsonArray("inputs").stream()
                .map(t -> ((JsonObject) t).getString("name")).toList());
        assertEquals("BYTES", metadata.getJsonArray("inputs").getJsonObject(2).getString("datatype"));
        assertEquals(List.of("probabilities", "logits_per_image", "image_embeds", "text_embeds"),
                metadata.getJsonArray("outputs").stream().map(t -> ((JsonObject) t).getString("name")).toList());
        assertEquals(new JsonArray().add(-1).add(12), metadata.getJsonArray("outputs").getJsonObject(3)
                .getJsonArray("shape"));
        JsonArray images = reference.getJsonArray("images");
        for (Object setObject : reference.getJsonArray("label_sets")) {
            JsonObject set = (JsonObject) setObject;
            JsonObject text = new JsonObject().put("name", "text").put("datatype", "BYTES")
                    .put("shape", new JsonArray().add(set.getJsonArray("labels").size()))
                    .put("data", set.getJsonArray("labels"));
            JsonObject parameters = new JsonObject().put("hypothesis_template", set.getString("template"));
            // two images in one request: the rows keep their order
            JsonArray data = new JsonArray().add(Base64.getEncoder().encodeToString(photo(images.getString(0))))
                    .add(Base64.getEncoder().encodeToString(photo(images.getString(3))));
            HttpResponse<Buffer> response = await(post("/v2/models/tiny-clip/infer").sendJsonObject(new JsonObject()
                    .put("parameters", parameters).put("inputs", new JsonArray().add(new JsonObject().put("name", "image")
                            .put("datatype", "BYTES").put("shape", new JsonArray().add(2)).put("data", data)).add(text))));
            assertEquals(200, response.statusCode(), response.bodyAsString());
            java.util.Map<String, JsonObject> outputs = byName(response.bodyAsJsonObject().getJsonArray("outputs"));
            assertEquals(List.of("probabilities", "logits_per_image", "image_embeds", "text_embeds"),
                    List.copyOf(outputs.keySet()));
            matchesOip(outputs, set, 0, 0, "REST " + images.getString(0) + " " + set.getJsonArray("labels"));
            matchesOip(outputs, set, 3, 1, "REST " + images.getString(3) + " " + set.getJsonArray("labels"));
            HttpResponse<Buffer> textOnly = await(post("/v2/models/tiny-clip/infer").sendJsonObject(new JsonObject()
                    .put("parameters", parameters).put("inputs", new JsonArray().add(text))));
            assertEquals(200, textOnly.statusCode(), textOnly.bodyAsString());
            JsonArray only = textOnly.bodyAsJsonObject().getJsonArray("outputs");
            assertEquals(1, only.size(), only.encode());
            assertEquals("text_embeds", only.getJsonObject(0).getString("name"));
            for (int t = 0; t < set.getJsonArray("labels").size(); t++) {
                close(set.getJsonArray("text_embeds").getJsonArray(t), row(only.getJsonObject(0), t), "text only " + t);
            }
        }
        // the classification extension names the candidate labels
        JsonObject set = reference.getJsonArray("label_sets").getJsonObject(0);
        HttpResponse<Buffer> classes = await(post("/v2/models/tiny-clip/infer").sendJsonObject(new JsonObject()
                .put("inputs", new JsonArray().add(new JsonObject().put("name", "image").put("datatype", "BYTES")
                        .put("shape", new JsonArray().add(1)).put("data", new JsonArray()
                                .add(Base64.getEncoder().encodeToString(photo(images.getString(0)))))).add(new JsonObject()
                        .put("name", "text").put("datatype", "BYTES").put("shape", new JsonArray().add(3))
                        .put("data", set.getJsonArray("labels"))))
                .put("outputs", new JsonArray().add(new JsonObject().put("name", "probabilities")
                        .put("parameters", new JsonObject().put("classification", 1))))));
        assertEquals(200, classes.statusCode(), classes.bodyAsString());
        String best = classes.bodyAsJsonObject().getJsonArray("outputs").getJsonObject(0).getJsonArray("data")
                .getString(0);
        JsonArray scores = set.getJsonArray("scores").getJsonArray(0);
        int top = 0;
        for (int j = 1; j < scores.size(); j++) {
            top = scores.getDouble(j) > scores.getDouble(top) ? j : top;
        }
        assertTrue(best.endsWith(":" + top + ":" + set.getJsonArray("labels").getString(top)), best);
        // the bounds of the REST route, and outputs the inputs cannot give
        for (Object[] bad : new Object[][] {
            {new JsonArray(java.util.Collections.nCopies(101, "x")), null, 413},
            {new JsonArray().add("x".repeat(301)), null, 413},
            {new JsonArray().add("cat"), "probabilities", 400},
            {new JsonArray(), null, 400}}) {
            JsonObject body = new JsonObject().put("inputs", new JsonArray().add(new JsonObject().put("name", "text")
                    .put("datatype", "BYTES").put("shape", new JsonArray().add(((JsonArray) bad[0]).size()))
                    .put("data", bad[0])));
            if (bad[1] != null) {
                body.put("outputs", new JsonArray().add(new JsonObject().put("name", bad[1])));
            }
            HttpResponse<Buffer> refused = await(post("/v2/models/tiny-clip/infer").sendJsonObject(body));
            assertEquals(bad[2], refused.statusCode(), refused.bodyAsString());
            assertTrue(refused.bodyAsJsonObject().getString("error") != null, refused.bodyAsString());
        }
    }

    @Test
    void oipGrpcFromPythonsGrpcioTakesTheLabelsAsText() throws Exception {
        java.nio.file.Path folder = ExternalClient.pythonGrpcClient("oip_grpc_zero_shot.py");
        JsonArray images = reference.getJsonArray("images");
        for (Object setObject : reference.getJsonArray("label_sets")) {
            JsonObject set = (JsonObject) setObject;
            List<String> command = new ArrayList<>(List.of(ExternalClient.PYTHON, "oip_grpc_zero_shot.py",
                    "127.0.0.1:" + server.server.grpcPort(), "tiny-clip", set.getJsonArray("labels").encode(),
                    set.getString("template")));
            for (int image = 0; image < images.size(); image++) {
                command.add(Fixtures.tinyClip().resolve("../images").resolve(images.getString(image)).normalize()
                        .toString());
            }
            String output = ExternalClient.run(folder, command);
            JsonObject answer = new JsonObject(output.lines().reduce((first, last) -> last).orElse("{}"));
            assertEquals(List.of("pixel_values", "image", "text"), answer.getJsonArray("inputs").stream()
                    .map(t -> ((JsonObject) t).getString("name")).toList());
            assertEquals(List.of("probabilities", "logits_per_image", "image_embeds", "text_embeds"),
                    answer.getJsonArray("outputs").stream().map(t -> ((JsonObject) t).getString("name")).toList());
            for (int image = 0; image < images.size(); image++) {
                JsonObject outputs = answer.getJsonArray("images").getJsonObject(image);
                java.util.Map<String, JsonObject> map = new java.util.LinkedHashMap<>();
                for (String name : outputs.fieldNames()) {
                    map.put(name, outputs.getJsonObject(name));
                }
                matchesOip(map, set, image, 0, "gRPC " + images.getString(image) + " " + set.getJsonArray("labels"));
            }
            JsonObject textEmbeds = answer.getJsonObject("text_only").getJsonObject("text_embeds");
            assertEquals(1, answer.getJsonObject("text_only").size());
            for (int t = 0; t < set.getJsonArray("labels").size(); t++) {
                close(set.getJsonArray("text_embeds").getJsonArray(t), row(textEmbeds, t), "gRPC text only " + t);
            }
            JsonObject bad = answer.getJsonObject("bad");
            assertEquals("INVALID_ARGUMENT", bad.getJsonObject("too_many_labels").getString("code"), bad.encode());
            assertEquals("INVALID_ARGUMENT", bad.getJsonObject("label_too_long").getString("code"), bad.encode());
            assertEquals("INVALID_ARGUMENT", bad.getJsonObject("probabilities_without_an_image").getString("code"),
                    bad.encode());
        }
    }

    /** One series of the onnx server's /metrics for tiny-clip, 0 when it is not there yet. */
    private static double metric(String name) throws Exception {
        HttpResponse<Buffer> response = await(client.get(server.port(), "127.0.0.1", "/metrics").send());
        assertEquals(200, response.statusCode());
        for (String line : response.bodyAsString().split("\n")) {
            if (line.startsWith(name + "{") && line.contains("model=\"tiny-clip\"")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return 0;
    }

    @Test
    void knownLabelsRunNoTextTowerAndScoreTheSame() throws Exception {
        String image = Base64.getEncoder().encodeToString(photo("chelsea.png"));
        // labels no other test sends, so that the first request misses whatever ran before
        JsonObject body = new JsonObject().put("image", image)
                .put("candidate_labels", new JsonArray().add("cache probe cat").add("cache probe dog").add("cache probe cat"))
                .put("hypothesis_template", "a cached photo of a {}");
        double runs = metric("vitserve_text_inference_seconds_count");
        double hits = metric("vitserve_text_cache_hits_total");
        double misses = metric("vitserve_text_cache_misses_total");
        JsonObject first = ok(await(post("/v1/models/tiny-clip/zero-shot").sendJsonObject(body))).getJsonArray("results")
                .getJsonObject(0);
        assertEquals(runs + 1, metric("vitserve_text_inference_seconds_count"), "one text tower run for new labels");
        assertEquals(misses + 3, metric("vitserve_text_cache_misses_total"));
        assertEquals(hits, metric("vitserve_text_cache_hits_total"));
        assertTrue(metric("vitserve_text_cache_size_bytes") > 0);
        JsonObject second = ok(await(post("/v1/models/tiny-clip/zero-shot").sendJsonObject(body))).getJsonArray("results")
                .getJsonObject(0);
        assertEquals(runs + 1, metric("vitserve_text_inference_seconds_count"), "no text tower run for known labels");
        assertEquals(hits + 3, metric("vitserve_text_cache_hits_total"));
        assertEquals(misses + 3, metric("vitserve_text_cache_misses_total"));
        assertEquals(first.getJsonArray("logits_per_image"), second.getJsonArray("logits_per_image"));
        assertEquals(first.getJsonArray("predictions"), second.getJsonArray("predictions"));
        // the same label in another template is another text: it runs the tower again
        ok(await(post("/v1/models/tiny-clip/zero-shot").sendJsonObject(body.copy()
                .put("candidate_labels", new JsonArray().add("cache probe cat"))
                .put("hypothesis_template", "another cached photo of a {}"))));
        assertEquals(runs + 2, metric("vitserve_text_inference_seconds_count"));
    }

    @Test
    void badRequestsAndTheWrongTaskAreClear4xxAndTheServerKeepsServing() throws Exception {
        byte[] bytes = photo("chelsea.png");
        String image = Base64.getEncoder().encodeToString(bytes);
        refused(await(post("/v1/models/tiny-clip/zero-shot").putHeader("Content-Type", "image/png")
                .sendBuffer(Buffer.buffer(bytes))), 400, "no_labels");
        refused(await(post("/v1/models/tiny-clip/zero-shot").sendJsonObject(new JsonObject().put("image", image)
                .put("candidate_labels", new JsonArray()))), 400, "no_labels");
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            many.add("label " + i);
        }
        refused(await(post("/v1/models/tiny-clip/zero-shot").sendJsonObject(new JsonObject().put("image", image)
                .put("candidate_labels", new JsonArray(many)))), 413, "too_many_labels");
        refused(await(post("/v1/models/tiny-clip/zero-shot").sendJsonObject(new JsonObject().put("image", image)
                .put("candidate_labels", new JsonArray().add("x".repeat(1_000_000))))), 413, "label_too_long");
        for (String template : List.of("no place for the label", "a {label} photo", "a {} photo }", "{1}")) {
            refused(await(post("/v1/models/tiny-clip/zero-shot").sendJsonObject(new JsonObject().put("image", image)
                    .put("candidate_labels", new JsonArray().add("cat")).put("hypothesis_template", template))),
                    400, "invalid_template");
        }
        refused(await(post("/v1/models/tiny-clip/zero-shot").sendJsonObject(new JsonObject().put("image", image)
                .put("candidate_labels", new JsonArray().add("cat")).put("hypothesis_template", "{} ".repeat(200)))),
                413, "template_too_long");
        refused(await(post("/v1/models/tiny-clip/embed-text").sendJsonObject(new JsonObject().put("texts", "a cat"))),
                400, "no_texts");
        // the wrong task, both ways, on every door that would otherwise answer
        refused(await(post("/v1/models/tiny-vit/zero-shot?candidate_labels=cat").putHeader("Content-Type", "image/png")
                .sendBuffer(Buffer.buffer(bytes))), 422, "wrong_task");
        refused(await(post("/v1/models/tiny-vit/embed-text").sendJsonObject(new JsonObject()
                .put("texts", new JsonArray().add("a cat")))), 422, "wrong_task");
        refused(await(post("/v1/models/tiny-clip/classify").putHeader("Content-Type", "image/png")
                .sendBuffer(Buffer.buffer(bytes))), 422, "wrong_task");
        HttpResponse<Buffer> oip = await(post("/v2/models/tiny-vit/infer").sendJsonObject(new JsonObject()
                .put("inputs", new JsonArray().add(new JsonObject().put("name", "text").put("datatype", "BYTES")
                        .put("shape", new JsonArray().add(1)).put("data", new JsonArray().add("a cat"))))));
        assertEquals(422, oip.statusCode(), oip.bodyAsString());
        // a label of more tokens than the text tower's positions is truncated as Hugging Face truncates
        JsonObject answer = ok(await(post("/v1/models/tiny-clip/zero-shot").sendJsonObject(new JsonObject()
                .put("image", image).put("candidate_labels", new JsonArray().add("cat").add("word ".repeat(50))))));
        assertEquals(2, answer.getJsonArray("results").getJsonObject(0).getJsonArray("predictions").size());
        ok(await(post("/v1/models/tiny-vit/classify").putHeader("Content-Type", "image/png")
                .sendBuffer(Buffer.buffer(bytes))));
    }
}
