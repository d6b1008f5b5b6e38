package dev.vitserve.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Finding 3 of issue 23, with the container's heap (-Xmx1g -XX:+ExitOnOutOfMemoryError): JSON bodies within the
 * 20 MB limit made of ten million empty objects or numbers are refused by their shape before any object is built,
 * six at once on every JSON route (or, those past the memory budget, with 503 before they are read), and a classify
 * beside them is answered.
 */
@Tag("container-heap")
@ExtendWith(VertxExtension.class)
class JsonAmplificationContainerHeapTest {

    private static final int BODY = 19_900_000;

    @Test
    void tenMillionElementBodiesAreRefusedAndTheServerServesBesideThem(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake")) {
            byte[] photo = Files.readAllBytes(Fixtures.image("coffee.jpg"));
            Buffer objects = Buffer.buffer(repeated("{\"inputs\": [", "{},", "{}]}"));
            Buffer numbers = Buffer.buffer(repeated("{\"inputs\": [{\"name\": \"image\", \"datatype\": \"FP32\","
                    + " \"shape\": [1], \"data\": [", "0,", "0]}]}"));
            Buffer nested = Buffer.buffer("{\"image\": " + "[".repeat(100_000) + "]".repeat(100_000) + "}");
            List<Future<HttpResponse<Buffer>>> sent = new ArrayList<>();
            for (String route : List.of("/v1/classify", "/", "/models/tiny-vit", "/v2/models/tiny-vit/infer")) {
                for (int i = 0; i < 6; i++) {
                    Buffer body = route.startsWith("/v2") && i % 2 == 1 ? numbers : i == 5 ? nested : objects;
                    sent.add(server.client.post(route).putHeader("Content-Type", "application/json").sendBuffer(body));
                }
            }
            long start = System.nanoTime();
            HttpResponse<Buffer> beside = server.postImage("/v1/classify", photo, "image/jpeg");
            assertEquals(200, beside.statusCode(), beside.bodyAsString());
            int shaped = 0;
            for (Future<HttpResponse<Buffer>> future : sent) {
                HttpResponse<Buffer> response = future.await(120, TimeUnit.SECONDS);
                if (response.statusCode() == 503) {
                    assertTrue(response.getHeader("Retry-After") != null
                            && response.bodyAsString().contains("memory"), response.bodyAsString());
                    continue;
                }
                shaped++;
                assertEquals(413, response.statusCode(), response.bodyAsString());
                assertTrue(response.bodyAsString().contains("the JSON body holds more than")
                        || response.bodyAsString().contains("the JSON body nests objects and arrays more than 32 deep"),
                        response.bodyAsString());
            }
            assertTrue(shaped > 0, "some bodies were read and refused by their shape");
            assertEquals(200, server.postImage("/v1/classify", photo, "image/jpeg").statusCode(), "still serving after "
                    + (System.nanoTime() - start) / 1_000_000 + " ms");
        }
    }

    /** A JSON text of about {@link #BODY} bytes: head, then the element repeated, then tail. */
    private static String repeated(String head, String element, String tail) {
        StringBuilder text = new StringBuilder(BODY).append(head);
        while (text.length() < BODY - tail.length() - element.length()) {
            text.append(element);
        }
        return text.append(tail).toString();
    }
}
