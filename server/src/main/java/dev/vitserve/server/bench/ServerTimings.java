package dev.vitserve.server.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server's own timers, read from {@code /metrics} before and after a load run: how long the
 * engine, decoding and preprocessing took on average meanwhile, whatever the load generator.
 */
final class ServerTimings {

    private static final Pattern SERIES = Pattern.compile(
            "(?m)^vitserve_(inference|decode|preprocess|batch_size)(?:_seconds)?_(sum|count)(?:\\{[^}]*})? ([0-9.eE+-]+)$");

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final Map<String, Double> values;
    private final long readNanos;

    private ServerTimings(Map<String, Double> values, long readNanos) {
        this.values = values;
        this.readNanos = readNanos;
    }

    /**
     * How the engine was used between two readings.
     *
     * @param imagesPerSecond images through the engine per second of wall time
     * @param busy the share of the wall time the engine was running a batch, 0 to 1
     * @param meanBatch images per engine run
     * @param msPerImage engine time per image (batch time over its images)
     */
    record EngineUse(double imagesPerSecond, double busy, double meanBatch, double msPerImage) {
    }

    static ServerTimings read(int port) throws Exception {
        String text = HTTP.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        return parse(text, System.nanoTime());
    }

    /** The timers in a Prometheus text page read at {@code readNanos} ({@link System#nanoTime()}). */
    static ServerTimings parse(String prometheusText, long readNanos) {
        Map<String, Double> values = new HashMap<>();
        Matcher m = SERIES.matcher(prometheusText);
        while (m.find()) {
            values.put(m.group(1) + "." + m.group(2), Double.parseDouble(m.group(3)));
        }
        return new ServerTimings(values, readNanos);
    }

    /**
     * Reads the timers right after the engine finishes a batch (polling every 20 ms, for at most
     * {@code patience}): two such readings span whole batches, so the rate and busy share between
     * them carry no error from a batch cut by the window's edge (up to one batch time, 2.7% of a
     * 15 s window at 400 ms a batch).
     */
    static ServerTimings readAtBatchEnd(int port, Duration patience) throws Exception {
        ServerTimings first = read(port);
        long giveUp = System.nanoTime() + patience.toNanos();
        ServerTimings now = first;
        while (now.count("inference") == first.count("inference") && System.nanoTime() < giveUp) {
            Thread.sleep(20);
            now = read(port);
        }
        return now;
    }

    private double count(String timer) {
        return values.getOrDefault(timer + ".count", 0.0);
    }

    /**
     * Waits until the engine has been idle for half a second: wrk drops its connections at the end of
     * a run, but the images they sent are still decoded and inferred, and would slow the next run.
     */
    static void awaitIdle(int port) throws Exception {
        double last = read(port).count("inference");
        long quietSince = System.nanoTime();
        while (System.nanoTime() - quietSince < 500_000_000L) {
            Thread.sleep(100);
            double now = read(port).count("inference");
            if (now != last) {
                last = now;
                quietSince = System.nanoTime();
            }
        }
    }

    /** Mean milliseconds of a timer ({@code inference}, {@code decode} or {@code preprocess}) between the two readings. */
    double meanMsSince(ServerTimings before, String timer) {
        double count = delta(before, timer + ".count");
        double sum = delta(before, timer + ".sum");
        return count > 0 ? sum / count * 1000 : Double.NaN;
    }

    /** The engine's use between {@code before} and this reading, from the inference timer and the batch sizes. */
    EngineUse engineUseSince(ServerTimings before) {
        double busySeconds = delta(before, "inference.sum");
        double batches = delta(before, "inference.count");
        double images = delta(before, "batch_size.sum");
        double wallSeconds = (readNanos - before.readNanos) / 1e9;
        return new EngineUse(wallSeconds > 0 ? images / wallSeconds : Double.NaN,
                wallSeconds > 0 ? busySeconds / wallSeconds : Double.NaN,
                batches > 0 ? images / batches : Double.NaN, images > 0 ? busySeconds / images * 1000 : Double.NaN);
    }

    private double delta(ServerTimings before, String series) {
        return values.getOrDefault(series, 0.0) - before.values.getOrDefault(series, 0.0);
    }
}
