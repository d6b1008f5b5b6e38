package dev.vitserve.server.bench;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Throughput and latency of one HTTP load step; {@code engineP50} is the median engine time the
 * answers report, {@code failures} is empty when every answer was a 200.
 */
record LoadStep(double rate, double p50, double p99, double engineP50, String failures) {

    /**
     * One measured load step, from wrk or the Java client; it returns once the server is idle, so
     * that the engine alone measured next does not share the machine with requests wrk left behind.
     */
    static LoadStep run(boolean wrk, int port, String url, Path image, int clients, Duration measure) throws Exception {
        if (wrk) {
            WrkLoad.Result r = WrkLoad.run(url, image, "image/jpeg", clients, measure);
            ServerTimings.awaitIdle(port);
            return new LoadStep(r.requestsPerSecond(), r.p50Ms(), r.p99Ms(), r.engineP50Ms(),
                    r.non2xx() + r.socketErrors() == 0 ? ""
                    : "   (" + r.non2xx() + " non-2xx, " + r.socketErrors() + " socket errors)");
        }
        HttpLoad.Result r = HttpLoad.run(URI.create(url), Files.readAllBytes(image), "image/jpeg", clients, Duration.ZERO,
                measure);
        return new LoadStep(r.okPerSecond(), r.latencyOf200().median(), r.latencyOf200().percentile(99),
                r.engineOf200().median(), r.statuses().keySet().stream().allMatch(s -> s == 200) ? "" : "   " + r.statuses());
    }

    /** The median of each figure over the rounds of a step, and every failure seen. */
    static LoadStep medianOf(List<LoadStep> steps) {
        if (steps.size() == 1) {
            return steps.get(0);
        }
        return new LoadStep(Stats.of(steps.stream().map(LoadStep::rate).toList()).median(),
                Stats.of(steps.stream().map(LoadStep::p50).toList()).median(),
                Stats.of(steps.stream().map(LoadStep::p99).toList()).median(),
                Stats.of(steps.stream().map(LoadStep::engineP50).toList()).median(),
                String.join("", steps.stream().map(LoadStep::failures).toList()));
    }

    /** The serving overhead over rounds: the median of each round's p50 latency minus its p50 engine time. */
    static double overheadOf(List<LoadStep> steps) {
        return Stats.of(steps.stream().map(l -> l.p50() - l.engineP50()).toList()).median();
    }
}
