package dev.vitserve.core.http;

import static dev.vitserve.core.http.ApiErrorsTest.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.ImageHost;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import io.vertx.junit5.VertxExtension;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Images given by URL, and the original service's endpoint, against a web server on loopback. */
@ExtendWith(VertxExtension.class)
class UrlInputTest {

    static ImageHost host;
    static RunningServer guarded;
    static RunningServer intranet;

    @BeforeAll
    static void start(Vertx vertx) throws Exception {
        host = ImageHost.start(vertx);
        guarded = RunningServer.start(vertx, "fake");
        intranet = RunningServer.start(vertx, "fake", "--allow-private-urls", "--max-body-size", "1MB",
                "--url-timeout-ms", "1500");
    }

    @AfterAll
    static void stop() throws Exception {
        guarded.close();
        intranet.close();
        host.close();
    }

    @Test
    void loopbackUrlsAreRefusedByDefaultWithoutBeingFetched() throws Exception {
        int before = host.requests.get();
        for (String url : new String[] {host.url("/images/chelsea.png"),
                "http://localhost:" + host.port() + "/images/chelsea.png",
                "http://2130706433:" + host.port() + "/images/chelsea.png",
                "http://0x7f000001:" + host.port() + "/images/chelsea.png",
                "http://127.1:" + host.port() + "/images/chelsea.png",
                "http://[::1]:" + host.port() + "/images/chelsea.png",
                "http://[::ffff:127.0.0.1]:" + host.port() + "/images/chelsea.png"}) {
            JsonObject error = assertError(classifyUrl(guarded, url), 403, "url_not_allowed");
            assertTrue(error.getString("message").contains("private"), error.getString("message"));
            assertError(guarded.get("/predict_image_class?image_url=" + url), 403, "url_not_allowed");
        }
        assertEquals(before, host.requests.get(), "the canary server must see no request");
    }

    @Test
    void allowedUrlsAreFetchedAndClassifiedLikeTheUpload() throws Exception {
        HttpResponse<Buffer> byUrl = classifyUrl(intranet, host.url("/images/chelsea.png"));
        assertEquals(200, byUrl.statusCode(), byUrl.bodyAsString());
        JsonObject result = byUrl.bodyAsJsonObject().getJsonArray("results").getJsonObject(0);
        assertEquals(host.url("/images/chelsea.png"), result.getString("name"));
        HttpResponse<Buffer> upload = intranet.postImage("/v1/classify",
                Fixtures.bytes(Fixtures.image("chelsea.png")), "image/png");
        assertEquals(ClassifyApiTest.predictions(upload), result.getJsonArray("predictions"));
        HttpResponse<Buffer> inputs = intranet.client.post("/v1/classify")
                .sendJsonObject(new JsonObject().put("inputs", host.url("/images/chelsea.png"))).await(30, TimeUnit.SECONDS);
        assertEquals(ClassifyApiTest.predictions(upload), ClassifyApiTest.predictions(inputs));
    }

    @Test
    void redirectsAreFollowedUpToThree() throws Exception {
        assertEquals(200, classifyUrl(intranet, host.url("/redirect/3")).statusCode());
        assertError(classifyUrl(intranet, host.url("/redirect/4")), 502, "url_fetch_failed");
    }

    @Test
    void fetchFailuresAreExplained() throws Exception {
        JsonObject missing = assertError(classifyUrl(intranet, host.url("/missing")), 502, "url_fetch_failed");
        assertTrue(missing.getString("message").contains("404"), missing.getString("message"));
        assertError(classifyUrl(intranet, host.url("/huge")), 413, "url_too_large");
        assertError(classifyUrl(intranet, host.url("/slow")), 504, "url_timeout");
        assertError(classifyUrl(intranet, "http://127.0.0.1:1/none.png"), 502, "url_fetch_failed");
        assertError(classifyUrl(intranet, "http://no-such-host.invalid/x.png"), 502, "url_fetch_failed");
    }

    @Test
    void originalEndpointAnswersOnlyThePredictedClass() throws Exception {
        HttpResponse<Buffer> byUrl = intranet.get("/predict_image_class?image_url=" + host.url("/images/coffee.jpg"));
        assertEquals(200, byUrl.statusCode(), byUrl.bodyAsString());
        JsonObject body = byUrl.bodyAsJsonObject();
        assertEquals(1, body.size());
        String top = ClassifyApiTest.predictions(intranet.postImage("/v1/classify",
                Fixtures.bytes(Fixtures.image("coffee.jpg")), "image/jpeg")).getJsonObject(0).getString("label");
        assertEquals(top, body.getString("predicted_class"));

        MultipartForm form = MultipartForm.create().binaryFileUpload("image", "coffee.jpg",
                Buffer.buffer(Fixtures.bytes(Fixtures.image("coffee.jpg"))), "image/jpeg");
        HttpResponse<Buffer> upload = intranet.client.post("/predict_image_class").sendMultipartForm(form)
                .await(30, TimeUnit.SECONDS);
        assertEquals(200, upload.statusCode(), upload.bodyAsString());
        assertEquals(new JsonObject().put("predicted_class", top), upload.bodyAsJsonObject());
    }

    private static HttpResponse<Buffer> classifyUrl(RunningServer server, String url) throws Exception {
        return server.client.post("/v1/classify").sendJsonObject(new JsonObject().put("url", url))
                .await(30, TimeUnit.SECONDS);
    }
}
