package dev.vitserve.core.http;

import static dev.vitserve.core.http.ApiErrorsTest.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.testing.RunningServer;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Errors the HTTP layer finds before routing (framing, sizes of the request line and headers)
 * are answered in JSON like every other error, and a request framed two ways is never followed
 * by a smuggled one.
 */
@ExtendWith(VertxExtension.class)
class ProtocolErrorsTest {

    @Test
    void contentLengthWithChunkedIsA400AndTheConnectionClosesBeforeTheSmuggledRequest(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake")) {
            String smuggled = "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n";
            String answer = exchange(server, "POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                    + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled);
            assertJsonError(answer, 400, "bad_request");
            assertEquals(1, count(answer, "HTTP/1.1 "), "one answer, and the smuggled request is not run: " + answer);
            assertTrue(answer.toLowerCase().contains("connection: close"), answer);

            assertJsonError(exchange(server, "POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                    + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"), 400, "bad_request");
            assertJsonError(exchange(server, "POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                    + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"), 501, "not_implemented");
        }
    }

    @Test
    void requestLineHeaderAndFramingErrorsAreAnsweredInJson(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake")) {
            assertJsonError(exchange(server, "GET /" + "a".repeat(5000) + " HTTP/1.1\r\nHost: x\r\n\r\n"),
                    414, "uri_too_long");
            assertJsonError(exchange(server, "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(9000)
                    + "\r\n\r\n"), 431, "headers_too_large");
            assertJsonError(exchange(server, "POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"),
                    400, "bad_request");
            // a bad chunk size used to close the connection without a word
            String badChunk = exchange(server, "POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n");
            assertJsonError(badChunk, 400, "bad_request");
            assertEquals(200, server.get("/health/live").statusCode(), "the server still serves");
        }
    }

    @Test
    void aBase64ImageOf15MbUnderThe20MbLimitIsReadNotRefusedAsInvalidJson(Vertx vertx) throws Exception {
        try (RunningServer server = RunningServer.start(vertx, "fake")) {
            byte[] bytes = new byte[15_200_000];
            new Random(17).nextBytes(bytes);
            String json = new JsonObject().put("image", Base64.getEncoder().encodeToString(bytes)).encode();
            assertTrue(json.length() > 20_000_000 && json.length() < 20 * 1024 * 1024, "over Jackson's default, under the body limit");
            var response = server.client.post("/v1/classify").putHeader("Content-Type", "application/json")
                    .sendBuffer(Buffer.buffer(json)).await(60, TimeUnit.SECONDS);
            // random bytes are not an image: what matters is that the JSON and its base64 were read
            assertError(response, 415, "unsupported_format");
        }
    }

    /** Sends raw bytes and reads everything the server answers until it closes the connection (or 10 s pass). */
    static String exchange(RunningServer server, String request) throws Exception {
        return exchange(server.port(), request);
    }

    /** Sends raw bytes on a new connection to the port and reads all it answers until it closes. */
    static String exchange(int port, String request) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            try {
                for (int n; (n = in.read(buffer)) != -1; ) {
                    answer.write(buffer, 0, n);
                }
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the connection stayed open after: " + answer.toString(StandardCharsets.ISO_8859_1), e);
            } catch (java.net.SocketException reset) {
                // a reset after the answer still leaves the answer read so far
            }
            return answer.toString(StandardCharsets.ISO_8859_1);
        }
    }

    static void assertJsonError(String answer, int status, String code) {
        assertTrue(answer.matches("(?s)HTTP/1\\.[01] " + status + " .*"), answer);
        int bodyStart = answer.indexOf("\r\n\r\n");
        assertTrue(bodyStart > 0, answer);
        String head = answer.substring(0, bodyStart).toLowerCase();
        assertTrue(head.contains("content-type: application/json"), answer);
        String body = answer.substring(bodyStart + 4);
        int end = body.indexOf("HTTP/1.1 ");
        JsonObject error = new JsonObject(end > 0 ? body.substring(0, end) : body).getJsonObject("error");
        assertEquals(code, error.getString("code"), answer);
        assertFalse(error.getString("message").isBlank());
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }
}
