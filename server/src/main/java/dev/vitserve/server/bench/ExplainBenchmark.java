package dev.vitserve.server.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.function.IntFunction;

/**
 * Explanations against classify on one model, one server, one client (loopback), in alternating rounds: classify, then
 * explain with attention rollout (one engine run, the rollout from the same graph); then occlusion requests on a 7x7
 * grid (50 engine images each: the default 14x14 grid of a ViT-B/16, 197 images, can outlast a loaded machine's 120 s
 * idle timeout). Every request carries the same image as base64 JSON.
 */
final class ExplainBenchmark {

    /** Medians over rounds: classify and rollout latency, their per-round ratio; occlusion's latency and images. */
    record Summary(double classifyMs, double rolloutMs, double rolloutRatio, double occlusionMs, double occlusionRatio) {
    }

    /** The occlusion grid measured: 49 cells, 50 engine images per request. */
    static final String OCCLUSION_GRID = "7x7";

    private ExplainBenchmark() {
    }

    /**
     * The engine alone, the run with the rollout against the run without it, one after the other {@code pairs} times
     * on one random image (each pair seconds apart at most, so a shared machine's drift cancels).
     *
     * @return the median of the pairs' ratios
     */
    static double engine(dev.vitserve.api.Backend backend, dev.vitserve.api.VitConfig config, int pairs)
            throws Exception {
        dev.vitserve.api.PixelBatch image = EngineBenchmark.randomBatch(config, 1);
        backend.infer(image, true);
        backend.infer(image, false);
        List<Double> plain = new ArrayList<>();
        List<Double> rolled = new ArrayList<>();
        List<Double> ratios = new ArrayList<>();
        for (int i = 0; i < pairs; i++) {
            long t0 = System.nanoTime();
            backend.infer(image, false);
            long t1 = System.nanoTime();
            backend.infer(image, true);
            long t2 = System.nanoTime();
            plain.add((t1 - t0) / 1e6);
            rolled.add((t2 - t1) / 1e6);
            ratios.add((t2 - t1) / (double) (t1 - t0));
        }
        double ratio = Stats.of(ratios).median();
        System.out.printf(Locale.ROOT, "   engine alone, %d pairs at batch 1: without rollout %.1f ms, with %.1f ms"
                + " (medians); median of the pairs' ratios %.3f%n", pairs, Stats.of(plain).median(),
                Stats.of(rolled).median(), ratio);
        return ratio;
    }

    static Summary run(int port, String model, Path image, int rounds, double seconds, double warmupSeconds)
            throws Exception {
        String b64 = Base64.getEncoder().encodeToString(Files.readAllBytes(image));
        URI classify = URI.create("http://127.0.0.1:" + port + "/v1/models/" + model + "/classify");
        URI rollout = URI.create("http://127.0.0.1:" + port + "/v1/models/" + model + "/explain");
        URI occlusion = URI.create("http://127.0.0.1:" + port + "/v1/models/" + model + "/explain?method=occlusion&grid=" + OCCLUSION_GRID);
        IntFunction<String> body = n -> "{\"image\":\"" + b64 + "\"}";
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        System.out.println("   warm-up " + warmupSeconds + " s per case");
        ZeroShotBenchmark.measure(http, classify, body, warmupSeconds);
        ZeroShotBenchmark.measure(http, rollout, body, warmupSeconds);
        System.out.println("   round   classify ms (req/s)   rollout ms (req/s)   server inference ms c/r   rollout/classify");
        List<Double> classifyMs = new ArrayList<>();
        List<Double> rolloutMs = new ArrayList<>();
        List<Double> ratios = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            ZeroShotBenchmark.Step c = ZeroShotBenchmark.measure(http, classify, body, seconds);
            ZeroShotBenchmark.Step r = ZeroShotBenchmark.measure(http, rollout, body, seconds);
            double base = c.latency().median();
            classifyMs.add(base);
            rolloutMs.add(r.latency().median());
            ratios.add(r.latency().median() / base);
            System.out.printf(Locale.ROOT, "   %5d   %8.1f (%6.2f)    %8.1f (%6.2f)     %7.1f / %-7.1f        %12.3f%n",
                    round, base, c.perSecond(), r.latency().median(), r.perSecond(), c.inference().median(),
                    r.inference().median(), r.latency().median() / base);
        }
        // occlusion: a handful of requests, each many engine images
        ZeroShotBenchmark.Step o = ZeroShotBenchmark.measure(http, occlusion, body, Math.max(seconds, 1));
        double classifyMedian = Stats.of(classifyMs).median();
        System.out.printf(Locale.ROOT, "   occlusion on a %s grid (50 engine images): %d requests, median %.1f ms (%.1fx"
                + " classify)%n", OCCLUSION_GRID, o.latency().count(), o.latency().median(),
                o.latency().median() / classifyMedian);
        return new Summary(classifyMedian, Stats.of(rolloutMs).median(), Stats.of(ratios).median(),
                o.latency().median(), o.latency().median() / classifyMedian);
    }
}
