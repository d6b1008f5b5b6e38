package dev.vitserve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vitserve.testkit.Fixtures;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** --log-format json: every line the server prints is one JSON object, access lines with their fields. */
class JsonLogTest {

    @Test
    void everyLineIsJsonAndAccessLinesCarryTheRequestFields() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        try (ServerProcess server = ServerProcess.start(Map.of("VITSERVE_LOG_FORMAT", "json"), List.of(),
                "--model", Fixtures.tinyVit().toString(), "--backend", "fake", "--port", String.valueOf(port),
                "--access-log", "combined", "--shutdown-grace-ms", "0")) {
            server.awaitLine("ready in");
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/v1/classify")).header("Content-Type", "image/png")
                    .header("X-Request-Id", "json-log-1")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(Fixtures.bytes(Fixtures.image("green-palette.png"))))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode(), response.body());
            String accessLine = server.awaitLine("json-log-1");

            ObjectMapper json = new ObjectMapper();
            JsonNode access = json.readTree(accessLine);
            assertEquals("vitserve.access", access.path("logger").asText(), accessLine);
            assertEquals("json-log-1", access.path("request_id").asText(), accessLine);
            assertTrue(access.path("status").isInt(), "a number, not a string: " + accessLine);
            assertEquals(200, access.path("status").asInt());
            assertTrue(access.path("bytes").isIntegralNumber() && access.path("bytes").asLong() > 0, accessLine);
            assertTrue(access.path("duration_ms").isNumber(), accessLine);
            assertEquals("/v1/classify", access.path("uri").asText());
            assertEquals("POST", access.path("method").asText());
            assertFalse(access.has("referer"), "no Referer: no field, not the text \"null\": " + accessLine);
            assertTrue(access.path("user_agent").isTextual(), accessLine);
            String timestamp = access.path("timestamp").asText();
            assertTrue(timestamp.matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z"), timestamp);
            assertTrue(Math.abs(Instant.parse(timestamp).toEpochMilli() - System.currentTimeMillis()) < 600_000, timestamp);
            access.fields().forEachRemaining(field -> assertTrue(field.getValue().isValueNode(),
                    "one flat object: " + accessLine));
            assertTrue(access.path("message").asText().contains("\"POST /v1/classify HTTP/1.1\" 200 "), accessLine);

            server.close();
            for (String line : server.output().split("\n")) {
                JsonNode node = json.readTree(line);
                assertTrue(node.isObject() && node.has("level") && node.has("message") && node.has("timestamp"), line);
            }
        }
    }
}
