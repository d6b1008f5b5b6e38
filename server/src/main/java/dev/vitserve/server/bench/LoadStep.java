package dev.vitserve.server.bench;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.ToDoubleFunction;

/**
 * One HTTP load step. {@code rate} is the load generator's count of answers over its whole run,
 * {@code engine} the server's steady state in the middle of that run (its rate, and how busy its
 * engine was, from its metrics), {@code engineP50} the median engine time the answers report,
 * {@code failures} is empty when every answer was a 200.
 */
record LoadStep(double rate, double p50, double p99, double engineP50, ServerTimings.EngineUse engine, String failures) {

    /** Load before the steady window: the clients' first images need a batch time to come back. */
    private static final Duration SETTLE = Duration.ofMillis(1500);
    /** Load after it, so that the window's last batch end is still under load. */
    private static final Duration TAIL = Duration.ofMillis(1500);

    /**
     * One measured load step, from wrk or the Java client, whose window {@code measure} lies
     * between two batch ends in the middle of the load; it returns once the server is idle, so that
     * the engine alone measured next does not share the machine with requests wrk left behind.
     */
    static LoadStep run(boolean wrk, int port, String url, Path image, int clients, Duration measure) throws Exception {
        Duration whole = SETTLE.plus(measure).plus(TAIL);
        CompletableFuture<LoadStep> load = CompletableFuture.supplyAsync(() -> {
            try {
                return loadFor(wrk, url, image, clients, whole);
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        });
        Thread.sleep(SETTLE.toMillis());
        ServerTimings first = ServerTimings.readAtBatchEnd(port, TAIL);
        Thread.sleep(measure.toMillis());
        ServerTimings.EngineUse engine = ServerTimings.readAtBatchEnd(port, TAIL).engineUseSince(first);
        LoadStep measured = load.join();
        ServerTimings.awaitIdle(port);
        return new LoadStep(measured.rate(), measured.p50(), measured.p99(), measured.engineP50(), engine,
                measured.failures());
    }

    /** What the load generator itself saw over its whole run; the engine's use is not known yet. */
    private static LoadStep loadFor(boolean wrk, String url, Path image, int clients, Duration duration) throws Exception {
        if (wrk) {
            WrkLoad.Result r = WrkLoad.run(url, image, "image/jpeg", clients, duration);
            return new LoadStep(r.requestsPerSecond(), r.p50Ms(), r.p99Ms(), r.engineP50Ms(), null,
                    r.non2xx() + r.socketErrors() == 0 ? ""
                    : "   (" + r.non2xx() + " non-2xx, " + r.socketErrors() + " socket errors)");
        }
        HttpLoad.Result r = HttpLoad.run(URI.create(url), Files.readAllBytes(image), "image/jpeg", clients, Duration.ZERO,
                duration);
        return new LoadStep(r.okPerSecond(), r.latencyOf200().median(), r.latencyOf200().percentile(99),
                r.engineOf200().median(), null,
                r.statuses().keySet().stream().allMatch(s -> s == 200) ? "" : "   " + r.statuses());
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
                new ServerTimings.EngineUse(median(steps, ServerTimings.EngineUse::imagesPerSecond),
                        median(steps, ServerTimings.EngineUse::busy), median(steps, ServerTimings.EngineUse::meanBatch),
                        median(steps, ServerTimings.EngineUse::msPerImage)),
                String.join("", steps.stream().map(LoadStep::failures).toList()));
    }

    /** The serving overhead over rounds: the median of each round's p50 latency minus its p50 engine time. */
    static double overheadOf(List<LoadStep> steps) {
        return Stats.of(steps.stream().map(l -> l.p50() - l.engineP50()).toList()).median();
    }

    private static double median(List<LoadStep> steps, ToDoubleFunction<ServerTimings.EngineUse> figure) {
        return Stats.of(steps.stream().map(s -> figure.applyAsDouble(s.engine())).toList()).median();
    }
}
