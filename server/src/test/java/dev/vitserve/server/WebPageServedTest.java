package dev.vitserve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.RunningServer;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The page and its assets come from web-ui's jar with the right types and security headers. */
@ExtendWith(VertxExtension.class)
class WebPageServedTest {

    @Test
    void pageAndAssetsAreServedWithSecurityHeaders(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "onnx")) {
            HttpResponse<Buffer> page = server.get("/");
            assertEquals(200, page.statusCode());
            assertTrue(page.getHeader("Content-Type").startsWith("text/html"), page.getHeader("Content-Type"));
            assertTrue(page.getHeader("Content-Security-Policy").contains("default-src 'self'"));
            assertEquals("nosniff", page.getHeader("X-Content-Type-Options"));
            assertEquals("DENY", page.getHeader("X-Frame-Options"));
            assertTrue(page.bodyAsString().contains("app.js"));
            assertTrue(server.get("/app.js").getHeader("Content-Type").contains("javascript"));
            assertTrue(server.get("/style.css").getHeader("Content-Type").startsWith("text/css"));
            assertEquals(200, server.client.request(HttpMethod.HEAD, "/").send().await(30, TimeUnit.SECONDS).statusCode());
            assertEquals(404, server.get("/no-such-page.html").statusCode());
            HttpResponse<Buffer> postAsset = server.client.post("/app.js").send().await(30, TimeUnit.SECONDS);
            assertEquals(405, postAsset.statusCode(), "a page file is a known path");
            assertEquals("GET, HEAD", postAsset.getHeader("Allow"));
            assertEquals(404, server.client.post("/no-such-page.html").send().await(30, TimeUnit.SECONDS).statusCode());
        }
    }

    @Test
    void browsersRevalidateThePageSoAnUpgradeIsSeenAtOnce(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "onnx")) {
            for (String path : new String[] {"/", "/index.html", "/app.js", "/style.css", "/favicon.svg"}) {
                HttpResponse<Buffer> file = server.get(path);
                assertEquals(200, file.statusCode(), path);
                assertEquals("no-cache", file.getHeader("Cache-Control"), path + " is revalidated at every use");
                String lastModified = file.getHeader("Last-Modified");
                assertTrue(lastModified != null && !lastModified.isBlank(), path + " has a validator");
                HttpResponse<Buffer> again = server.client.get(path).putHeader("If-Modified-Since", lastModified)
                        .send().await(30, TimeUnit.SECONDS);
                assertEquals(304, again.statusCode(), path + " unchanged: 304, no body sent again");
                HttpResponse<Buffer> older = server.client.get(path)
                        .putHeader("If-Modified-Since", "Thu, 01 Jan 2015 00:00:00 GMT").send().await(30, TimeUnit.SECONDS);
                assertEquals(200, older.statusCode(), path + " changed since the browser's copy: sent again");
                assertEquals(file.bodyAsString(), older.bodyAsString(), path);
            }
        }
    }
}
