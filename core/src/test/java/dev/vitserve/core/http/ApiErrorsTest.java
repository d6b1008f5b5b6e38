package dev.vitserve.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.PlainErrors;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A user's bad input gets a 4xx JSON error that says what is wrong, and the server goes on serving. */
@ExtendWith(VertxExtension.class)
class ApiErrorsTest {

    static RunningServer server;

    @BeforeAll
    static void start(Vertx vertx) throws Exception {
        server = RunningServer.start(vertx, "fake", "--max-body-size", "300KB", "--max-files", "2",
                "--max-megapixels", "0.1");
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void everyBadFileGetsA4xxJsonErrorAndTheServerKeepsServing() throws Exception {
        for (Path bad : Fixtures.badImages()) {
            for (String type : new String[] {"image/jpeg", "application/octet-stream"}) {
                HttpResponse<Buffer> response = server.postImage("/v1/classify", Fixtures.bytes(bad), type);
                JsonObject error = assertError(response, -1, null);
                assertTrue(response.statusCode() >= 400 && response.statusCode() < 500, bad + ": " + response.statusCode());
                assertFalse(error.getString("message").contains("Exception"), error.getString("message"));
            }
            MultipartForm form = MultipartForm.create().binaryFileUpload("image", bad.getFileName().toString(),
                    Buffer.buffer(Fixtures.bytes(bad)), "image/jpeg");
            HttpResponse<Buffer> upload = server.client.post("/predict_image_class").sendMultipartForm(form)
                    .await(30, TimeUnit.SECONDS);
            assertTrue(upload.statusCode() >= 400 && upload.statusCode() < 500, bad + ": " + upload.statusCode());
        }
        assertEquals(200, server.postImage("/v1/classify", Fixtures.bytes(Fixtures.image("green-palette.png")),
                "image/png").statusCode());
    }

    @Test
    void textIsAnUnsupportedFormatAndEmptyIsABadRequest() throws Exception {
        assertError(server.postImage("/v1/classify", Fixtures.bytes(Fixtures.image("bad/not-an-image.txt")),
                "image/png"), 415, "unsupported_format");
        assertError(server.postImage("/v1/classify", new byte[0], "image/png"), 400, "empty_body");
        assertError(server.postImage("/v1/classify", Fixtures.bytes(Fixtures.image("bad/truncated.jpg")),
                "image/jpeg"), 415, "corrupt_image");
    }

    @Test
    void limitsAnswer413() throws Exception {
        String raw = assertError(server.postImage("/v1/classify", new byte[400 * 1024], "image/png"), 413,
                "body_too_large").getString("message");
        assertEquals("the request body exceeds the body limit of 300 KB (--max-body-size)", raw);
        MultipartForm big = MultipartForm.create().binaryFileUpload("a", "a.png", Buffer.buffer(new byte[400 * 1024]),
                "image/png");
        assertEquals(raw, assertError(server.client.post("/v1/classify").sendMultipartForm(big)
                .await(30, TimeUnit.SECONDS), 413, "body_too_large").getString("message"), "the same words as multipart");
        assertEquals("the request body exceeds the body limit of 300 KB (--max-body-size)", PlainErrors.assertPlainError(
                server.postImage("/models/tiny-vit", new byte[400 * 1024], "image/png"), 413));
        assertError(server.postImage("/v1/classify", Fixtures.bytes(Fixtures.image("chelsea-exif6.jpg")), "image/jpeg"),
                413, "too_many_pixels");
        Buffer small = Buffer.buffer(Fixtures.bytes(Fixtures.image("green-palette.png")));
        MultipartForm three = MultipartForm.create().binaryFileUpload("a", "a.png", small, "image/png")
                .binaryFileUpload("b", "b.png", small, "image/png").binaryFileUpload("c", "c.png", small, "image/png");
        assertError(server.client.post("/v1/classify").sendMultipartForm(three).await(30, TimeUnit.SECONDS),
                413, "too_many_files");
    }

    @Test
    void malformedRequestsAnswer400Or415() throws Exception {
        byte[] png = Fixtures.bytes(Fixtures.image("green-palette.png"));
        assertError(server.postImage("/v1/classify?top_k=0", png, "image/png"), 400, "invalid_parameter");
        assertError(server.postImage("/v1/classify?top_k=two", png, "image/png"), 400, "invalid_parameter");
        assertError(server.postImage("/v1/classify?function=relu", png, "image/png"), 400, "invalid_parameter");
        assertError(server.postImage("/v1/classify", png, "text/plain"), 415, "unsupported_media_type");
        assertError(server.postImage("/v1/classify", "{nope".getBytes(), "application/json"), 400, "invalid_json");
        assertError(server.postImage("/v1/classify", "{}".getBytes(), "application/json"), 400, "invalid_json");
        assertError(server.postImage("/v1/classify", "{\"image\": \"***\"}".getBytes(), "application/json"),
                400, "invalid_base64");
        assertError(server.postImage("/v1/classify", "{\"url\": \"ftp://example.com/a.png\"}".getBytes(),
                "application/json"), 400, "invalid_url");
        assertError(server.get("/predict_image_class"), 400, "missing_parameter");
        MultipartForm wrongField = MultipartForm.create().binaryFileUpload("file", "a.png", Buffer.buffer(png), "image/png");
        assertError(server.client.post("/predict_image_class").sendMultipartForm(wrongField).await(30, TimeUnit.SECONDS),
                400, "missing_field");
    }

    @Test
    void unknownPathsAndMethodsAreJsonToo() throws Exception {
        assertError(server.get("/v3/nothing"), 404, "not_found");
        assertError(server.client.delete("/v1/classify").send().await(30, TimeUnit.SECONDS), 405, "method_not_allowed");
        assertError(server.get("/v1/classify"), 405, "method_not_allowed");
    }

    @Test
    void anUnknownPathIs404ForEveryMethodAndAWrongMethodOnAKnownOneIs405WithAllow() throws Exception {
        for (HttpMethod method : List.of(HttpMethod.POST, HttpMethod.PUT, HttpMethod.DELETE, HttpMethod.PATCH,
                HttpMethod.GET)) {
            for (String path : List.of("/nonexistent", "/deep/er/path", "/v1/nothing")) {
                assertError(server.client.request(method, path).send().await(30, TimeUnit.SECONDS), 404, "not_found");
            }
        }
        HttpResponse<Buffer> put = server.client.put("/v1/models/tiny-vit/classify").send().await(30, TimeUnit.SECONDS);
        assertError(put, 405, "method_not_allowed");
        assertEquals("POST", put.getHeader("Allow"));
        HttpResponse<Buffer> onPredict = server.client.delete("/predict_image_class").send().await(30, TimeUnit.SECONDS);
        assertError(onPredict, 405, "method_not_allowed");
        assertEquals("GET, POST", onPredict.getHeader("Allow"));
        HttpResponse<Buffer> onRoot = server.client.put("/").send().await(30, TimeUnit.SECONDS);
        assertEquals(405, onRoot.statusCode(), "the page and Hugging Face's POST / are there");
        assertEquals("GET, HEAD, POST", onRoot.getHeader("Allow"));
        HttpResponse<Buffer> onInfer = server.client.get("/v2/models/tiny-vit/versions/1/infer").send()
                .await(30, TimeUnit.SECONDS);
        assertEquals(405, onInfer.statusCode(), onInfer.bodyAsString());
        assertTrue(onInfer.getHeader("Allow").contains("POST"), onInfer.getHeader("Allow"));
    }

    static JsonObject assertError(HttpResponse<Buffer> response, int status, String code) {
        if (status > 0) {
            assertEquals(status, response.statusCode(), response.bodyAsString());
        }
        assertTrue(response.getHeader("Content-Type").startsWith("application/json"), response.getHeader("Content-Type"));
        JsonObject error = response.bodyAsJsonObject().getJsonObject("error");
        if (code != null) {
            assertEquals(code, error.getString("code"), error.encode());
        }
        assertFalse(error.getString("message").isBlank());
        return error;
    }
}
