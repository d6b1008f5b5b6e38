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

/**
 * SIGTERM: readiness turns 503 at once, new requests are still served through the grace period
 * (their answers close the connection), then refused; every accepted request is answered, exit 0.
 */
class ShutdownTest {

    /**
     * Waits until the server has admitted every one of {@code requests}: those in progress, as its
     * metrics say, and those already answered (on a busy host the first may finish before the last is sent).
     */
    private static void awaitAdmitted(HttpClient http, int port, List<CompletableFuture<HttpResponse<String>>> requests)
            throws Exception {
        HttpRequest metrics = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build();
        String line = "";
        for (int i = 0; i < 500; i++) {
            String body = http.send(metrics, HttpResponse.BodyHandlers.ofString()).body();
            line = body.lines().filter(l -> l.startsWith("vitserve_requests_in_progress ")).findFirst().orElse("");
            long answered = requests.stream().filter(CompletableFuture::isDone).count();
            if (line.equals("vitserve_requests_in_progress " + (requests.size() - answered) + ".0")) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the server never had all " + requests.size() + " requests admitted: " + line);
    }

    /** GET of a path, on the given client. */
    private static HttpResponse<String> get(HttpClient http, int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void sigtermServesThroughTheGracePeriodThenDrainsEveryAcceptedRequestAndExitsZero() throws Exception {
        // 10 requests at 400 ms each, one at a time: about 4 s of work, longer than the 1.5 s grace period,
        // so the server is still draining when the grace period is over
        try (ServerProcess server = ServerProcess.start(Map.of(), List.of("-Dvitserve.fake.delay-ms=400"),
                "--model", Fixtures.tinyVit().toString(), "--backend", "fake", "--port", "0", "--max-batch", "1",
                "--shutdown-grace-ms", "1500")) {
            int port = server.awaitReady();
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpRequest classify = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/classify"))
                    .header("Content-Type", "image/png")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(Fixtures.bytes(Fixtures.image("green-palette.png")))).build();
            List<CompletableFuture<HttpResponse<String>>> accepted = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                accepted.add(http.sendAsync(classify, HttpResponse.BodyHandlers.ofString()));
            }
            awaitAdmitted(http, port, accepted);

            server.process.toHandle().destroy(); // SIGTERM, keeping the output pipe open
            HttpResponse<String> ready = get(http, port, "/health/ready");
            for (int i = 0; i < 100 && ready.statusCode() == 200; i++) {
                Thread.sleep(10);
                ready = get(http, port, "/health/ready");
            }
            assertEquals(503, ready.statusCode(), "readiness turns at once");
            assertTrue(ready.body().contains("serving on"), ready.body());

            // queued behind the others, it is answered after the grace period, while the server drains
            CompletableFuture<HttpResponse<String>> inGrace = http.sendAsync(classify, HttpResponse.BodyHandlers.ofString());

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!ready.body().contains("\"shutting down\"") && System.nanoTime() < deadline) {
                Thread.sleep(20);
                try {
                    ready = get(http, port, "/health/ready");
                } catch (java.io.IOException e) {
                    throw new AssertionError("the server stopped before the drain; output:\n" + server.output(), e);
                }
            }
            assertTrue(ready.body().contains("\"shutting down\""), "the grace period ended: " + ready.body());
            HttpResponse<String> late = http.send(classify, HttpResponse.BodyHandlers.ofString());
            assertEquals(503, late.statusCode(), late.body());
            assertTrue(late.headers().firstValue("Retry-After").isPresent());
            assertEquals("close", late.headers().firstValue("Connection").orElse(""));

            HttpResponse<String> servedInGrace = inGrace.get(60, TimeUnit.SECONDS);
            assertEquals(200, servedInGrace.statusCode(), "a request in the grace period is served: " + servedInGrace.body());
            assertEquals("close", servedInGrace.headers().firstValue("Connection").orElse(""),
                    "answers after SIGTERM close their connection");
            for (CompletableFuture<HttpResponse<String>> request : accepted) {
                HttpResponse<String> response = request.get(60, TimeUnit.SECONDS);
                assertEquals(200, response.statusCode(), response.body());
            }
            assertEquals(0, server.awaitExit(), server.output());
            assertTrue(server.output().contains("stopped"), "OUTPUT:\n" + server.output());
        }
    }
}
