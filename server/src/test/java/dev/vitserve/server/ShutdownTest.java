package dev.vitserve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.testkit.Fixtures;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** SIGTERM: readiness turns 503, new requests are refused, every accepted request is answered, exit 0. */
class ShutdownTest {

    /** Waits until the server has admitted that many requests, as its metrics say. */
    private static void awaitInProgress(HttpClient http, int port, int expected) throws Exception {
        HttpRequest metrics = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build();
        String line = "";
        for (int i = 0; i < 300; i++) {
            String body = http.send(metrics, HttpResponse.BodyHandlers.ofString()).body();
            line = body.lines().filter(l -> l.startsWith("vitserve_requests_in_progress ")).findFirst().orElse("");
            if (line.equals("vitserve_requests_in_progress " + expected + ".0")) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the server never had " + expected + " requests in progress: " + line);
    }

    @Test
    void sigtermFinishesEveryAcceptedRequestThenExitsZero() throws Exception {
        try (ServerProcess server = ServerProcess.start(Map.of(), List.of("-Dvitserve.fake.delay-ms=400"),
                "--model", Fixtures.tinyVit().toString(), "--backend", "fake", "--port", "0")) {
            int port = server.awaitReady();
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpRequest classify = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/classify"))
                    .header("Content-Type", "image/png")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(Fixtures.bytes(Fixtures.image("green-palette.png")))).build();
            List<CompletableFuture<HttpResponse<String>>> accepted = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                accepted.add(http.sendAsync(classify, HttpResponse.BodyHandlers.ofString()));
            }
            awaitInProgress(http, port, 5);

            server.process.toHandle().destroy(); // SIGTERM, keeping the output pipe open
            Thread.sleep(300);
            assertTrue(server.process.isAlive(), "still draining; output:\n" + server.output());
            HttpResponse<String> ready = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/health/ready")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(503, ready.statusCode(), "not ready while draining");
            HttpResponse<String> late;
            try {
                late = http.send(classify, HttpResponse.BodyHandlers.ofString());
            } catch (java.io.IOException e) {
                throw new AssertionError("late request failed; output:\n" + server.output(), e);
            }
            assertEquals(503, late.statusCode(), late.body());
            assertTrue(late.headers().firstValue("Retry-After").isPresent());

            for (CompletableFuture<HttpResponse<String>> request : accepted) {
                HttpResponse<String> response = request.get(60, TimeUnit.SECONDS);
                assertEquals(200, response.statusCode(), response.body());
            }
            assertEquals(0, server.awaitExit(), server.output());
            assertTrue(server.output().contains("stopped"), "OUTPUT:\n" + server.output());
        }
    }
}
