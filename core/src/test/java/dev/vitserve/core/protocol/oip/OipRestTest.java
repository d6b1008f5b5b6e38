package dev.vitserve.core.protocol.oip;

import static dev.vitserve.core.testing.OipRestClient.binaryInput;
import static dev.vitserve.core.testing.OipRestClient.lengthPrefixed;
import static dev.vitserve.core.testing.OipRestClient.littleEndian;
import static dev.vitserve.core.testing.OipRestClient.outputs;
import static dev.vitserve.core.testing.PlainErrors.assertPlainError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.OipRestClient;
import dev.vitserve.core.testing.OipRestClient.Output;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Open Inference Protocol's REST routes: health and metadata as tritonclient reads them,
 * inference on encoded images and on preprocessed tensors, in JSON and binary both ways, the
 * classification extension; and every kind of bad request answered 4xx {@code {"error": "..."}}
 * with the server serving on. Answers are checked against {@code /v1/classify} of the same server.
 */
@ExtendWith(VertxExtension.class)
class OipRestTest {

    static final String INFER = "/v2/models/tiny-vit/infer";
    static RunningServer server;
    static OipRestClient oip;
    static byte[] photo;
    static byte[] other;

    @BeforeAll
    static void start(Vertx vertx) throws Exception {
        server = RunningServer.start(vertx, "fake", "--max-files", "3", "--max-body-size", "4MB");
        oip = new OipRestClient(server);
        photo = Fixtures.bytes(Fixtures.image("astronaut-progressive.jpg"));
        other = Fixtures.bytes(Fixtures.image("chelsea.png"));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** The logits /v1/classify gives, by class index. */
    static float[] classifyLogits(byte[] image) throws Exception {
        JsonArray predictions = server.postImage("/v1/classify?function=none&top_k=100", image, "image/*")
                .bodyAsJsonObject().getJsonArray("results").getJsonObject(0).getJsonArray("predictions");
        float[] logits = new float[predictions.size()];
        for (Object item : predictions) {
            JsonObject p = (JsonObject) item;
            logits[p.getInteger("index")] = p.getDouble("score").floatValue();
        }
        return logits;
    }

    static float[] concat(float[]... rows) {
        float[] all = new float[rows.length * rows[0].length];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, all, i * rows[0].length, rows[0].length);
        }
        return all;
    }

    @Test
    void healthAndMetadataAnswerAsTritonclientReadsThem() throws Exception {
        assertEquals(new JsonObject().put("live", true), server.get("/v2/health/live").bodyAsJsonObject());
        assertEquals(new JsonObject().put("ready", true), server.get("/v2/health/ready").bodyAsJsonObject());
        JsonObject serverMetadata = server.get("/v2").bodyAsJsonObject();
        assertEquals("vitserve", serverMetadata.getString("name"));
        assertEquals(new JsonArray(List.of("binary_tensor_data", "classification")), serverMetadata.getJsonArray("extensions"));
        for (String model : new String[] {"/v2/models/tiny-vit", "/v2/models/tiny-vit/versions/1"}) {
            assertEquals(200, server.get(model + "/ready").statusCode());
            JsonObject metadata = server.get(model).bodyAsJsonObject();
            assertEquals("tiny-vit", metadata.getString("name"));
            assertEquals(new JsonArray(List.of("1")), metadata.getJsonArray("versions"));
            assertEquals(new JsonObject().put("name", "pixel_values").put("datatype", "FP32")
                    .put("shape", new JsonArray(List.of(-1, 3, 224, 224))), metadata.getJsonArray("inputs").getJsonObject(0));
            assertEquals(new JsonObject().put("name", "image").put("datatype", "BYTES")
                    .put("shape", new JsonArray(List.of(-1))), metadata.getJsonArray("inputs").getJsonObject(1));
            assertEquals(new JsonObject().put("name", "logits").put("datatype", "FP32")
                    .put("shape", new JsonArray(List.of(-1, 10))), metadata.getJsonArray("outputs").getJsonObject(0));
        }
        assertTrue(assertPlainError(server.get("/v2/models/no/such/model"), 404).contains("unknown model 'no/such/model'"));
        assertTrue(assertPlainError(server.get("/v2/models/tiny-vit/versions/2"), 404).contains("version '2'"));
        assertTrue(assertPlainError(server.get("/v2/models/tiny-vit/infer"), 405).contains("not allowed"));
        assertTrue(assertPlainError(server.get("/v2/nothing/here"), 404).contains("no such resource"));
        // sub-resources vitserve does not serve: not offered, never read as a model named 'tiny-vit/foo'
        for (String path : List.of("/v2/models/tiny-vit/foo", "/v2/models/tiny-vit/versions/1/foo",
                "/v2/models/tiny-vit/trace/setting")) {
            String error = assertPlainError(server.get(path), 404);
            assertTrue(error.contains("'" + path + "'") && error.contains("not offered") && !error.contains("unknown model"),
                    path + ": " + error);
        }
    }

    @Test
    void jsonBytesInputAnswersLogitsProbabilitiesAndClassification() throws Exception {
        JsonObject request = new JsonObject().put("id", "req-7")
                .put("inputs", new JsonArray().add(new JsonObject().put("name", "image").put("datatype", "BYTES")
                        .put("shape", new JsonArray(List.of(2, 1))).put("data", new JsonArray()
                                .add(new JsonArray().add(Base64.getEncoder().encodeToString(photo)))
                                .add(new JsonArray().add(Base64.getEncoder().encodeToString(other))))))
                .put("outputs", new JsonArray().add(new JsonObject().put("name", "logits"))
                        .add(new JsonObject().put("name", "probabilities").put("parameters",
                                new JsonObject().put("classification", 3))));
        HttpResponse<Buffer> response = oip.post(INFER, request.toBuffer(), null);
        assertEquals("application/json", response.getHeader("Content-Type"));
        JsonObject body = response.bodyAsJsonObject();
        assertEquals("req-7", body.getString("id"));
        assertEquals("tiny-vit", body.getString("model_name"));
        assertEquals("1", body.getString("model_version"));
        List<Output> outputs = outputs(response);
        float[] expected = concat(classifyLogits(photo), classifyLogits(other));
        assertEquals("logits", outputs.get(0).name());
        assertEquals(List.of(2L, 10L), outputs.get(0).shape());
        assertArrayEquals(expected, outputs.get(0).floats(), 1e-6f);
        Output classes = outputs.get(1);
        assertEquals("BYTES", classes.datatype());
        assertEquals(List.of(2L, 3L), classes.shape());
        JsonArray top = server.postImage("/v1/classify?top_k=3", photo, "image/*").bodyAsJsonObject()
                .getJsonArray("results").getJsonObject(0).getJsonArray("predictions");
        for (int i = 0; i < 3; i++) {
            JsonObject p = top.getJsonObject(i);
            assertEquals(String.format(Locale.ROOT, "%f:%d:%s", p.getDouble("score"), p.getInteger("index"),
                    p.getString("label")), classes.strings().get(i));
        }
    }

    @Test
    void binaryBytesAndBinaryTensorsBothWaysGiveTheSameLogits() throws Exception {
        float[] expected = concat(classifyLogits(photo), classifyLogits(other));
        byte[] images = lengthPrefixed(List.of(photo, other));
        JsonObject header = new JsonObject()
                .put("inputs", new JsonArray().add(binaryInput("image", "BYTES", List.of(2L), images.length)))
                .put("parameters", new JsonObject().put("binary_data_output", true));
        HttpResponse<Buffer> response = oip.postBinary(INFER, header, images);
        assertEquals("application/octet-stream", response.getHeader("Content-Type"));
        List<Output> outputs = outputs(response);
        assertEquals(List.of("logits", "probabilities"), outputs.stream().map(Output::name).toList());
        assertArrayEquals(expected, outputs.get(0).floats(), 1e-6f);

        float[] pixels = OipRestClient.pixelValues(Fixtures.tinyVit(), List.of(photo, other));
        JsonObject tensorHeader = new JsonObject()
                .put("inputs", new JsonArray().add(binaryInput("pixel_values", "FP32", List.of(2L, 3L, 224L, 224L),
                        pixels.length * 4)))
                .put("outputs", new JsonArray().add(new JsonObject().put("name", "logits")
                        .put("parameters", new JsonObject().put("binary_data", true))));
        assertArrayEquals(expected, outputs(oip.postBinary(INFER, tensorHeader, littleEndian(pixels))).get(0).floats(), 1e-5f);

        JsonArray data = new JsonArray();
        for (int i = 0; i < pixels.length / 2; i++) {
            data.add(pixels[i]);
        }
        JsonObject jsonTensor = new JsonObject().put("inputs", new JsonArray().add(new JsonObject()
                .put("name", "pixel_values").put("datatype", "FP32").put("shape", new JsonArray(List.of(1, 3, 224, 224)))
                .put("data", data)));
        float[] one = outputs(oip.post("/v2/models/tiny-vit/versions/1/infer", jsonTensor.toBuffer(), null)).get(0).floats();
        assertArrayEquals(classifyLogits(photo), one, 1e-5f);

        List<Output> raw = outputs(oip.post(INFER, Buffer.buffer(other), "0"));
        assertArrayEquals(classifyLogits(other), raw.get(0).floats(), 1e-6f);
        assertEquals(List.of(1L, 10L), raw.get(1).shape());
    }

    @Test
    void badRequestsGetAPlainErrorOfTheProtocolAndTheServerServesOn() throws Exception {
        byte[] images = lengthPrefixed(List.of(photo));
        List<String> errors = new ArrayList<>();
        // wrong datatype
        errors.add(assertPlainError(oip.postBinary(INFER, inputs(binaryInput("pixel_values", "INT32", List.of(1L, 3L, 224L, 224L),
                4 * 3 * 224 * 224)), new byte[4 * 3 * 224 * 224]), 400));
        errors.add(assertPlainError(oip.postBinary(INFER, inputs(binaryInput("image", "FP32", List.of(1L), images.length)), images), 400));
        // wrong shape
        errors.add(assertPlainError(oip.postBinary(INFER, inputs(binaryInput("pixel_values", "FP32", List.of(1L, 3L, 100L, 100L),
                4 * 3 * 100 * 100)), new byte[4 * 3 * 100 * 100]), 400));
        errors.add(assertPlainError(oip.postBinary(INFER, inputs(binaryInput("image", "BYTES", List.of(1L, 2L), images.length)),
                images), 400));
        // a shape whose product does not match the data
        errors.add(assertPlainError(oip.postBinary(INFER, inputs(binaryInput("pixel_values", "FP32", List.of(2L, 3L, 224L, 224L),
                4 * 3 * 224 * 224)), new byte[4 * 3 * 224 * 224]), 400));
        errors.add(assertPlainError(oip.postBinary(INFER, inputs(binaryInput("image", "BYTES", List.of(2L), images.length)),
                images), 400));
        // values beyond FP32 (a JSON 1e39 is infinite) and NaN bits: refused, never NaN logits
        int pixels = 3 * 224 * 224;
        StringBuilder huge = new StringBuilder("{\"inputs\": [{\"name\": \"pixel_values\", \"datatype\": \"FP32\","
                + " \"shape\": [1, 3, 224, 224], \"data\": [1e39");
        for (int i = 1; i < pixels; i++) {
            huge.append(",0");
        }
        String infinite = assertPlainError(oip.post(INFER, Buffer.buffer(huge.append("]}]}").toString()), null), 400);
        assertTrue(infinite.contains("element 0 is Infinity as FP32; pixel values must be finite"), infinite);
        java.nio.ByteBuffer nan = java.nio.ByteBuffer.allocate(4 * pixels).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        nan.putFloat(4 * 7, Float.NaN);
        String notANumber = assertPlainError(oip.postBinary(INFER, inputs(binaryInput("pixel_values", "FP32",
                List.of(1L, 3L, 224L, 224L), 4 * pixels)), nan.array()), 400);
        assertTrue(notANumber.contains("element 7 is NaN"), notANumber);
        errors.add(infinite);
        // unknown model, unknown input, unknown output, bad classification
        errors.add(assertPlainError(oip.postBinary("/v2/models/google/vit-base-patch16-224/infer",
                inputs(binaryInput("image", "BYTES", List.of(1L), images.length)), images), 404));
        errors.add(assertPlainError(oip.postBinary(INFER, inputs(binaryInput("INPUT0", "BYTES", List.of(1L), images.length)),
                images), 400));
        errors.add(assertPlainError(oip.postBinary(INFER, inputs(binaryInput("image", "BYTES", List.of(1L), images.length))
                .put("outputs", new JsonArray().add(new JsonObject().put("name", "embeddings"))), images), 400));
        errors.add(assertPlainError(oip.postBinary(INFER, inputs(binaryInput("image", "BYTES", List.of(1L), images.length))
                .put("outputs", new JsonArray().add(new JsonObject().put("name", "logits")
                        .put("parameters", new JsonObject().put("classification", 0)))), images), 400));
        // a BYTES element that is not an image
        byte[] text = lengthPrefixed(List.of("not an image at all".getBytes()));
        errors.add(assertPlainError(oip.postBinary(INFER, inputs(binaryInput("image", "BYTES", List.of(1L), text.length)), text), 415));
        // binary lengths past the body: the header's, an input's, a BYTES element's
        errors.add(assertPlainError(oip.post(INFER, Buffer.buffer("{\"inputs\": []}"), "999"), 400));
        errors.add(assertPlainError(oip.postBinary(INFER, inputs(binaryInput("image", "BYTES", List.of(1L), images.length + 10)),
                images), 400));
        byte[] cut = java.util.Arrays.copyOf(images, images.length - 100);
        errors.add(assertPlainError(oip.postBinary(INFER, inputs(binaryInput("image", "BYTES", List.of(1L), cut.length)), cut), 400));
        // malformed JSON, no inputs, too many images, a string where a shape goes
        errors.add(assertPlainError(oip.post(INFER, Buffer.buffer("{\"inputs\": [}"), null), 400));
        errors.add(assertPlainError(oip.post(INFER, Buffer.buffer("{\"inputs\": []}"), null), 400));
        byte[] four = lengthPrefixed(List.of(photo, photo, photo, photo));
        errors.add(assertPlainError(oip.postBinary(INFER, inputs(binaryInput("image", "BYTES", List.of(4L), four.length)), four), 413));
        errors.add(assertPlainError(oip.post(INFER, Buffer.buffer("{\"inputs\": [{\"name\": \"image\", \"datatype\": \"BYTES\", "
                + "\"shape\": -1, \"data\": [\"AAAA\"]}]}"), null), 400));
        errors.add(assertPlainError(oip.post(INFER, Buffer.buffer(new byte[5 << 20]), null), 413));
        // a form type, as curl -d sends without -H: read as the protocol's JSON all the same
        errors.add(assertPlainError(server.client.post(INFER).putHeader("Content-Type", "application/x-www-form-urlencoded")
                .sendBuffer(Buffer.buffer("{\"inputs\": []}")).await(30, TimeUnit.SECONDS), 400));
        for (String error : errors) {
            assertTrue(!error.contains("Exception") && error.length() > 15, error);
        }
        assertEquals(10, outputs(oip.postBinary(INFER, inputs(binaryInput("image", "BYTES", List.of(1L), images.length)),
                images)).get(0).floats().length);
        assertEquals(200, server.postImage("/v1/classify", photo, "image/jpeg").statusCode());
    }

    @Test
    void anyContentTypeCarriesTheJsonOrBinaryBodyAsTritonTakesIt() throws Exception {
        float[] expected = classifyLogits(photo);
        Buffer json = new JsonObject().put("inputs", new JsonArray().add(new JsonObject().put("name", "image")
                .put("datatype", "BYTES").put("shape", new JsonArray(List.of(1)))
                .put("data", new JsonArray().add(Base64.getEncoder().encodeToString(photo))))).toBuffer();
        byte[] images = lengthPrefixed(List.of(photo));
        Buffer header = inputs(binaryInput("image", "BYTES", List.of(1L), images.length)).toBuffer();
        Buffer binary = header.copy().appendBytes(images);
        for (String type : List.of("application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                "text/plain", "application/json", "application/octet-stream")) {
            HttpResponse<Buffer> byJson = server.client.post(INFER).putHeader("Content-Type", type)
                    .sendBuffer(json).await(30, TimeUnit.SECONDS);
            assertEquals(200, byJson.statusCode(), type + ": " + byJson.bodyAsString());
            assertArrayEquals(expected, floats(byJson.bodyAsJsonObject().getJsonArray("outputs").getJsonObject(0)
                    .getJsonArray("data")), 1e-6f, type);
            HttpResponse<Buffer> byBinary = server.client.post(INFER).putHeader("Content-Type", type)
                    .putHeader("Inference-Header-Content-Length", String.valueOf(header.length()))
                    .sendBuffer(binary).await(30, TimeUnit.SECONDS);
            assertEquals(200, byBinary.statusCode(), type + ": " + byBinary.bodyAsString());
            assertArrayEquals(expected, floats(byBinary.bodyAsJsonObject().getJsonArray("outputs").getJsonObject(0)
                    .getJsonArray("data")), 1e-6f, type + " binary");
        }
    }

    /** tritonclient's request compression: the whole body gzip- or zlib-compressed, and Content-Encoding set. */
    static Buffer compressed(String encoding, byte[] body, long zeros) throws Exception {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (java.io.OutputStream compressing = encoding.equals("gzip") ? new java.util.zip.GZIPOutputStream(out)
                : new java.util.zip.DeflaterOutputStream(out)) {
            compressing.write(body);
            byte[] block = new byte[1 << 20];
            for (long left = zeros; left > 0; left -= block.length) {
                compressing.write(block, 0, (int) Math.min(left, block.length));
            }
        }
        return Buffer.buffer(out.toByteArray());
    }

    @Test
    void compressedBodiesAreInflatedWithinTheBodyLimitAndBadOnesRefused() throws Exception {
        float[] expected = classifyLogits(photo);
        byte[] json = new JsonObject().put("inputs", new JsonArray().add(new JsonObject().put("name", "image")
                .put("datatype", "BYTES").put("shape", new JsonArray(List.of(1)))
                .put("data", new JsonArray().add(Base64.getEncoder().encodeToString(photo))))).toBuffer().getBytes();
        byte[] images = lengthPrefixed(List.of(photo));
        Buffer header = inputs(binaryInput("image", "BYTES", List.of(1L), images.length)).toBuffer();
        byte[] binary = header.copy().appendBytes(images).getBytes();
        for (String encoding : List.of("gzip", "deflate")) {
            HttpResponse<Buffer> byJson = server.client.post(INFER).putHeader("Content-Type", "application/json")
                    .putHeader("Content-Encoding", encoding).sendBuffer(compressed(encoding, json, 0))
                    .await(30, TimeUnit.SECONDS);
            assertEquals(200, byJson.statusCode(), encoding + ": " + byJson.bodyAsString());
            assertArrayEquals(expected, floats(byJson.bodyAsJsonObject().getJsonArray("outputs").getJsonObject(0)
                    .getJsonArray("data")), 1e-6f, encoding);
            HttpResponse<Buffer> byBinary = server.client.post(INFER).putHeader("Content-Encoding", encoding)
                    .putHeader("Inference-Header-Content-Length", String.valueOf(header.length()))
                    .sendBuffer(compressed(encoding, binary, 0)).await(30, TimeUnit.SECONDS);
            assertEquals(200, byBinary.statusCode(), encoding + ": " + byBinary.bodyAsString());
            assertArrayEquals(expected, floats(byBinary.bodyAsJsonObject().getJsonArray("outputs").getJsonObject(0)
                    .getJsonArray("data")), 1e-6f, encoding + " binary");
        }
        // a bomb: 1 GB of zeros in about 1 MB, refused at the body limit
        Buffer bomb = compressed("gzip", json, 1L << 30);
        assertTrue(bomb.length() < 2 << 20, "the bomb is small: " + bomb.length());
        String inflates = assertPlainError(server.client.post(INFER).putHeader("Content-Encoding", "gzip")
                .sendBuffer(bomb).await(60, TimeUnit.SECONDS), 413);
        assertTrue(inflates.contains("inflates past") && inflates.contains("--max-body-size"), inflates);
        // a truncated gzip body
        Buffer whole = compressed("gzip", json, 0);
        String truncated = assertPlainError(server.client.post(INFER).putHeader("Content-Encoding", "gzip")
                .sendBuffer(whole.getBuffer(0, whole.length() - 20)).await(30, TimeUnit.SECONDS), 400);
        assertTrue(truncated.contains("not valid gzip"), truncated);
        // an encoding not offered
        String unknown = assertPlainError(server.client.post(INFER).putHeader("Content-Encoding", "br")
                .sendBuffer(Buffer.buffer(json)).await(30, TimeUnit.SECONDS), 415);
        assertTrue(unknown.contains("'br'") && unknown.contains("gzip, deflate"), unknown);
        // the server serves on
        HttpResponse<Buffer> after = server.client.post(INFER).sendBuffer(Buffer.buffer(json)).await(30, TimeUnit.SECONDS);
        assertEquals(200, after.statusCode(), after.bodyAsString());
        // an answer compressed when asked, as tritonclient's response_compression_algorithm asks
        HttpResponse<Buffer> gzipped = server.client.post(INFER).putHeader("Accept-Encoding", "gzip")
                .sendBuffer(Buffer.buffer(json)).await(30, TimeUnit.SECONDS);
        assertEquals("gzip", gzipped.getHeader("Content-Encoding"));
        try (java.io.InputStream in = new java.util.zip.GZIPInputStream(
                new java.io.ByteArrayInputStream(gzipped.body().getBytes()))) {
            assertEquals(after.bodyAsJsonObject(), new JsonObject(Buffer.buffer(in.readAllBytes())));
        }
    }

    private static float[] floats(JsonArray data) {
        float[] values = new float[data.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = data.getFloat(i);
        }
        return values;
    }

    static JsonObject inputs(JsonObject input) {
        return new JsonObject().put("inputs", new JsonArray().add(input));
    }

    @Test
    void theBodyLimitHoldsBeforeTheBodyIsRead() throws Exception {
        HttpResponse<Buffer> tooLarge = server.client.post(INFER).putHeader("Inference-Header-Content-Length", "10")
                .sendBuffer(Buffer.buffer(new byte[6 << 20])).await(30, TimeUnit.SECONDS);
        assertTrue(assertPlainError(tooLarge, 413).contains("larger"));
    }
}
