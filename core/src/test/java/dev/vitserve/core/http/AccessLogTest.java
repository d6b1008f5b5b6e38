package dev.vitserve.core.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.vitserve.core.testing.RunningServer;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/** --access-log: one combined-format line per request with its request id; X-Request-Id taken or made, and returned. */
@ExtendWith(VertxExtension.class)
class AccessLogTest {

    private static final Pattern UUID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}");
    static RunningServer server;
    static final ListAppender<ILoggingEvent> lines = new ListAppender<>();

    @BeforeAll
    static void start(Vertx vertx) throws Exception {
        Logger access = (Logger) LoggerFactory.getLogger(AccessLog.LOGGER);
        lines.start();
        access.addAppender(lines);
        server = RunningServer.start(vertx, "fake", "--access-log");
    }

    @AfterAll
    static void stop() {
        server.close();
        ((Logger) LoggerFactory.getLogger(AccessLog.LOGGER)).detachAppender(lines);
    }

    /** The access line whose request id is this one, waiting for it a little (it is written when the answer ends). */
    private static ILoggingEvent lineOf(String requestId) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            synchronized (lines) {
                for (ILoggingEvent event : List.copyOf(lines.list)) {
                    if (event.getFormattedMessage().contains("\"" + requestId + "\"")) {
                        return event;
                    }
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no access line for " + requestId + " in " + lines.list.stream()
                .map(ILoggingEvent::getFormattedMessage).collect(Collectors.joining("\n")));
    }

    @Test
    void aClientsRequestIdIsReturnedAndLoggedWithTheCombinedFields() throws Exception {
        HttpResponse<Buffer> response = server.client.post("/v1/classify?top_k=1")
                .putHeader("Content-Type", "image/png").putHeader("X-Request-Id", "trace-42.a:b")
                .putHeader("User-Agent", "probe \"quoted\"\tend").putHeader("Referer", "https://app.example.com/")
                .sendBuffer(Buffer.buffer(Fixtures.bytes(Fixtures.image("green-palette.png")))).await(30, TimeUnit.SECONDS);
        assertEquals(200, response.statusCode(), response.bodyAsString());
        assertEquals("trace-42.a:b", response.getHeader("X-Request-Id"));

        ILoggingEvent event = lineOf("trace-42.a:b");
        String line = event.getFormattedMessage();
        assertTrue(Pattern.compile("^127\\.0\\.0\\.1 - - \\[\\d{2}/\\w{3}/\\d{4}:\\d{2}:\\d{2}:\\d{2} [+-]\\d{4}] "
                + "\"POST /v1/classify\\?top_k=1 HTTP/1\\.1\" 200 \\d+ \"https://app\\.example\\.com/\" "
                + "\"probe \\\\\"quoted\\\\\"\\\\x09end\" \"trace-42\\.a:b\" \\d+\\.\\d$").matcher(line).matches(), line);
        Map<String, Object> fields = event.getKeyValuePairs().stream()
                .collect(Collectors.toMap(pair -> pair.key, pair -> String.valueOf(pair.value)));
        assertEquals("200", fields.get("status"));
        assertEquals("POST", fields.get("method"));
        assertEquals("trace-42.a:b", fields.get("request_id"));
        assertEquals(String.valueOf(response.body().length()), fields.get("bytes"));
    }

    @Test
    void aMissingOrUnfitRequestIdIsReplacedByANewOne() throws Exception {
        HttpResponse<Buffer> none = server.get("/health/live");
        String made = none.getHeader("X-Request-Id");
        assertTrue(UUID.matcher(made).matches(), made);
        assertTrue(lineOf(made).getFormattedMessage().contains("\"GET /health/live HTTP/1.1\" 200"));

        for (String unfit : new String[] {"a".repeat(RequestId.MAX_LENGTH + 1), "two words", "x\"y", "é"}) {
            HttpResponse<Buffer> response = server.client.get("/no/such/page").putHeader("X-Request-Id", unfit)
                    .send().await(30, TimeUnit.SECONDS);
            String id = response.getHeader("X-Request-Id");
            assertTrue(UUID.matcher(id).matches(), unfit + " -> " + id);
            assertTrue(lineOf(id).getFormattedMessage().contains("\" 404 "), lineOf(id).getFormattedMessage());
        }
        String longest = "b".repeat(RequestId.MAX_LENGTH);
        assertEquals(longest, server.client.get("/health/live").putHeader("X-Request-Id", longest).send()
                .await(30, TimeUnit.SECONDS).getHeader("X-Request-Id"));
        assertNotEquals(made, server.get("/health/live").getHeader("X-Request-Id"), "a new id every request");
    }

    @Test
    void longFieldsAreCut() {
        String cut = AccessLog.escape("/" + "x".repeat(5000));
        assertEquals(1024 + 3, cut.length());
        assertTrue(cut.endsWith("..."));
        assertEquals("a\\x0d\\x0ab\\\\", AccessLog.escape("a\r\nb\\"));
    }

    /** Finding 11 of issue 23: an upload the client abandons is logged as 499, once, with no ERROR or stack trace. */
    @Test
    void anAbortedUploadIsLoggedAs499WithoutAnErrorOrStackTrace() throws Exception {
        ListAppender<ILoggingEvent> all = new ListAppender<>();
        all.start();
        Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
        root.addAppender(all);
        try {
            for (String type : new String[] {"image/png", "multipart/form-data; boundary=xyz", "application/json"}) {
                String id = "aborted-" + type.hashCode();
                try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.port())) {
                    socket.getOutputStream().write(("POST /v1/classify HTTP/1.1\r\nHost: x\r\nX-Request-Id: " + id
                            + "\r\nContent-Type: " + type + "\r\nContent-Length: 1000000\r\n\r\n"
                            + "--xyz\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\r\n"
                            + "x".repeat(5000)).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    socket.getOutputStream().flush();
                    Thread.sleep(200);
                }
                String line = lineOf(id).getFormattedMessage();
                assertTrue(line.contains("\"POST /v1/classify HTTP/1.1\" 499 -"), line);
            }
            Thread.sleep(300);
            List<String> loud = all.list.stream()
                    .filter(event -> event.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.ERROR)
                            || event.getThrowableProxy() != null)
                    .map(ILoggingEvent::getFormattedMessage).toList();
            assertEquals(List.of(), loud, "ERROR lines or stack traces for clients that went away");
            assertEquals(200, server.postImage("/v1/classify", Fixtures.bytes(Fixtures.image("green-palette.png")),
                    "image/png").statusCode());
        } finally {
            root.detachAppender(all);
        }
    }
}
