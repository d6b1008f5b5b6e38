package dev.vitserve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vitserve.testkit.Fixtures;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashMap;
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
                "--access-log", "common", "--shutdown-grace-ms", "0")) {
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
            assertEquals("vitserve.access", access.path("loggerName").asText(), accessLine);
            Map<String, String> fields = new HashMap<>();
            access.path("kvpList").forEach(pair -> pair.fields().forEachRemaining(
                    field -> fields.put(field.getKey(), field.getValue().asText())));
            assertEquals("json-log-1", fields.get("request_id"), accessLine);
            assertEquals("200", fields.get("status"));
            assertEquals("/v1/classify", fields.get("uri"));
            assertEquals("POST", fields.get("method"));
            assertTrue(access.path("formattedMessage").asText().contains("\"POST /v1/classify HTTP/1.1\" 200 "), accessLine);

            server.close();
            for (String line : server.output().split("\n")) {
                JsonNode node = json.readTree(line);
                assertTrue(node.isObject() && node.has("level") && node.has("formattedMessage"), line);
            }
        }
    }
}
