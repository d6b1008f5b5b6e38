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
        }
    }
}
