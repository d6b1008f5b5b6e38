package dev.vitserve.server.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A closed-loop load generator: {@code clients} threads, each sending the same image as soon as
 * its previous answer arrives, for a fixed time after a warm-up. Counts every answer that arrives
 * inside the measuring window (so long requests straddling its edges do not bias the rate), every
 * status, and whether each 503 carried {@code Retry-After}.
 */
final class HttpLoad {

    private static final Pattern INFERENCE = Pattern.compile("\"inference\":([0-9.]+)");
    private static final Pattern TOTAL = Pattern.compile("\"total\":([0-9.]+)");

    /**
     * What the clients saw.
     *
     * @param engineOf200 the engine time each successful answer reports in {@code timing_ms.inference}
     * @param serverOf200 the time the server reports from reading the request to its answer ({@code timing_ms.total})
     */
    record Result(int clients, double seconds, Stats latencyOf200, Stats engineOf200, Stats serverOf200,
                  Map<Integer, Integer> statuses,
                  int unavailableWithoutRetryAfter, int failedConnections) {

        double okPerSecond() {
            return latencyOf200.count() / seconds;
        }
    }

    private HttpLoad() {
    }

    static Result run(URI uri, byte[] body, String contentType, int clients, Duration warmup, Duration duration)
            throws InterruptedException {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(2))
                .header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        List<Double> latencies = Collections.synchronizedList(new ArrayList<>());
        List<Double> engine = Collections.synchronizedList(new ArrayList<>());
        List<Double> server = Collections.synchronizedList(new ArrayList<>());
        Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
        AtomicInteger missingRetryAfter = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        long measureFrom = System.nanoTime() + warmup.toNanos();
        long stopAt = measureFrom + duration.toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            Thread client = new Thread(() -> {
                while (System.nanoTime() < stopAt) {
                    long t0 = System.nanoTime();
                    try {
                        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                        long t1 = System.nanoTime();
                        if (t1 < measureFrom || t1 > stopAt) {
                            continue; // answers are counted when they arrive inside the window
                        }
                        statuses.merge(response.statusCode(), 1, Integer::sum);
                        if (response.statusCode() == 200) {
                            latencies.add((t1 - t0) / 1e6);
                            Matcher inference = INFERENCE.matcher(response.body());
                            if (inference.find()) {
                                engine.add(Double.parseDouble(inference.group(1)));
                            }
                            Matcher total = TOTAL.matcher(response.body());
                            if (total.find()) {
                                server.add(Double.parseDouble(total.group(1)));
                            }
                        } else if (response.statusCode() == 503 && response.headers().firstValue("Retry-After").isEmpty()) {
                            missingRetryAfter.incrementAndGet();
                        }
                    } catch (Exception e) {
                        if (System.nanoTime() >= measureFrom) {
                            failed.incrementAndGet();
                        }
                        if (e instanceof InterruptedException) {
                            return;
                        }
                    }
                }
            }, "load-client-" + c);
            client.start();
            threads.add(client);
        }
        for (Thread thread : threads) {
            thread.join();
        }
        return new Result(clients, duration.toNanos() / 1e9, Stats.of(latencies), Stats.of(engine), Stats.of(server),
                new TreeMap<>(statuses),
                missingRetryAfter.get(), failed.get());
    }
}
