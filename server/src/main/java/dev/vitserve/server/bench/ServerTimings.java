package dev.vitserve.server.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
            "(?m)^vitserve_(inference|decode|preprocess)_seconds_(sum|count) ([0-9.eE+-]+)$");

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final Map<String, Double> values;

    private ServerTimings(Map<String, Double> values) {
        this.values = values;
    }

    static ServerTimings read(int port) throws Exception {
        String text = HTTP.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        Map<String, Double> values = new HashMap<>();
        Matcher m = SERIES.matcher(text);
        while (m.find()) {
            values.put(m.group(1) + "." + m.group(2), Double.parseDouble(m.group(3)));
        }
        return new ServerTimings(values);
    }

    /**
     * Waits until the engine has been idle for half a second: wrk drops its connections at the end of
     * a run, but the images they sent are still decoded and inferred, and would slow the next run.
     */
    static void awaitIdle(int port) throws Exception {
        double last = read(port).values.getOrDefault("inference.count", 0.0);
        long quietSince = System.nanoTime();
        while (System.nanoTime() - quietSince < 500_000_000L) {
            Thread.sleep(100);
            double now = read(port).values.getOrDefault("inference.count", 0.0);
            if (now != last) {
                last = now;
                quietSince = System.nanoTime();
            }
        }
    }

    /** Mean milliseconds of a timer ({@code inference}, {@code decode} or {@code preprocess}) between the two readings. */
    double meanMsSince(ServerTimings before, String timer) {
        double count = values.getOrDefault(timer + ".count", 0.0) - before.values.getOrDefault(timer + ".count", 0.0);
        double sum = values.getOrDefault(timer + ".sum", 0.0) - before.values.getOrDefault(timer + ".sum", 0.0);
        return count > 0 ? sum / count * 1000 : Double.NaN;
    }
}
