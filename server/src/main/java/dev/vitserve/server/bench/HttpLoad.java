package dev.vitserve.server.bench;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A closed-loop load generator on Vert.x's HTTP client, all on one event loop so that it takes little
 * CPU from the server beside it: {@code clients} keep-alive connections, each sending the same image
 * as soon as its previous answer arrives, for a fixed time after a warm-up. Counts every answer that arrives
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
            throws InterruptedException, TimeoutException {
        List<Double> latencies = Collections.synchronizedList(new ArrayList<>());
        List<Double> engine = Collections.synchronizedList(new ArrayList<>());
        List<Double> server = Collections.synchronizedList(new ArrayList<>());
        Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
        AtomicInteger missingRetryAfter = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        long measureFrom = System.nanoTime() + warmup.toNanos();
        long stopAt = measureFrom + duration.toNanos();
        // one event loop, answers handled where they arrive: the client costs the machine little
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
        try {
            HttpClientAgent http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true)
                    .setConnectTimeout(10_000).setIdleTimeout(0), new PoolOptions().setHttp1MaxSize(clients));
            RequestOptions request = new RequestOptions().setMethod(HttpMethod.POST).setHost(uri.getHost())
                    .setPort(uri.getPort()).setURI(uri.getRawPath()).setTimeout(120_000)
                    .putHeader("Content-Type", contentType);
            Buffer payload = Buffer.buffer(body);
            CountDownLatch done = new CountDownLatch(clients);
            Runnable[] loops = new Runnable[clients];
            for (int c = 0; c < clients; c++) {
                int client = c;
                loops[c] = () -> {
                    if (System.nanoTime() >= stopAt) {
                        done.countDown();
                        return;
                    }
                    long t0 = System.nanoTime();
                    http.request(request).compose(req -> req.send(payload))
                            .compose(response -> response.body().map(answer -> {
                                long t1 = System.nanoTime();
                                if (t1 >= measureFrom && t1 <= stopAt) { // counted when they arrive inside the window
                                    record(response.statusCode(), response.getHeader("Retry-After"), answer.toString(),
                                            (t1 - t0) / 1e6, statuses, latencies, engine, server, missingRetryAfter);
                                }
                                return answer;
                            }))
                            .onComplete(outcome -> {
                                if (outcome.failed() && System.nanoTime() >= measureFrom) {
                                    failed.incrementAndGet();
                                }
                                loops[client].run();
                            });
                };
            }
            vertx.runOnContext(v -> {
                for (Runnable loop : loops) {
                    loop.run();
                }
            });
            done.await();
        } finally {
            vertx.close().await(30, TimeUnit.SECONDS);
        }
        return new Result(clients, duration.toNanos() / 1e9, Stats.of(latencies), Stats.of(engine), Stats.of(server),
                new TreeMap<>(statuses), missingRetryAfter.get(), failed.get());
    }

    private static void record(int status, String retryAfter, String answer, double latencyMs, Map<Integer, Integer> statuses,
                               List<Double> latencies, List<Double> engine, List<Double> server,
                               AtomicInteger missingRetryAfter) {
        statuses.merge(status, 1, Integer::sum);
        if (status == 200) {
            latencies.add(latencyMs);
            Matcher inference = INFERENCE.matcher(answer);
            if (inference.find()) {
                engine.add(Double.parseDouble(inference.group(1)));
            }
            Matcher total = TOTAL.matcher(answer);
            if (total.find()) {
                server.add(Double.parseDouble(total.group(1)));
            }
        } else if (status == 503 && retryAfter == null) {
            missingRetryAfter.incrementAndGet();
        }
    }
}
