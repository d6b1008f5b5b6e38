package dev.vitserve.server.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Zero-shot against classify on one image network: a CLIP model and a ViT classifier whose network
 * equals CLIP's image tower, served by one server, measured in alternating rounds at one client
 * (loopback): classify on the ViT; zero-shot with the same 10 labels in every request (their text
 * embeddings cached after the first); zero-shot with 10 labels never sent before (the text tower
 * runs for all 10 in every request). Every request carries the same image as base64 JSON.
 */
final class ZeroShotBenchmark {

    private static final Pattern TEXT = Pattern.compile("\"text\":([0-9.]+)");
    private static final Pattern INFERENCE = Pattern.compile("\"inference\":([0-9.]+)");
    private static final Pattern TOTAL = Pattern.compile("\"total\":([0-9.]+)");

    /** One case in one round: client latencies and the timings the server reported. */
    record Step(Stats latency, Stats text, Stats inference, Stats total, double seconds) {
        double perSecond() {
            return latency.count() / seconds;
        }
    }

    /** Medians over rounds of each case's median latency, and of the per-round ratios. */
    record Summary(double classifyMs, double cachedMs, double newMs, double cachedRatio, double newRatio) {
    }

    private ZeroShotBenchmark() {
    }

    static Summary run(int port, String vit, String clip, Path image, int rounds, double seconds, double warmupSeconds)
            throws Exception {
        String b64 = Base64.getEncoder().encodeToString(Files.readAllBytes(image));
        URI classify = URI.create("http://127.0.0.1:" + port + "/v1/models/" + vit + "/classify");
        URI zeroShot = URI.create("http://127.0.0.1:" + port + "/v1/models/" + clip + "/zero-shot");
        String cachedLabels = labels(i -> "label " + i);
        long[] fresh = {0};
        IntFunction<String> classifyBody = n -> "{\"image\":\"" + b64 + "\"}";
        IntFunction<String> cachedBody = n -> "{\"image\":\"" + b64 + "\",\"candidate_labels\":" + cachedLabels + "}";
        IntFunction<String> newBody = n -> {
            long r = fresh[0]++;
            return "{\"image\":\"" + b64 + "\",\"candidate_labels\":" + labels(i -> "new " + r + " " + i) + "}";
        };
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        System.out.println("   warm-up " + warmupSeconds + " s per case");
        measure(http, classify, classifyBody, warmupSeconds);
        measure(http, zeroShot, cachedBody, warmupSeconds);
        measure(http, zeroShot, newBody, warmupSeconds);
        System.out.println("   round   classify ms (req/s)   cached ms (req/s)  text ms   new ms (req/s)   text ms"
                + "   cached/classify   new/classify");
        List<Double> classifyMs = new ArrayList<>();
        List<Double> cachedMs = new ArrayList<>();
        List<Double> newMs = new ArrayList<>();
        List<Double> cachedRatios = new ArrayList<>();
        List<Double> newRatios = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            Step c = measure(http, classify, classifyBody, seconds);
            Step k = measure(http, zeroShot, cachedBody, seconds);
            Step n = measure(http, zeroShot, newBody, seconds);
            double base = c.latency().median();
            classifyMs.add(base);
            cachedMs.add(k.latency().median());
            newMs.add(n.latency().median());
            cachedRatios.add(k.latency().median() / base);
            newRatios.add(n.latency().median() / base);
            System.out.printf(Locale.ROOT, "   %5d   %8.1f (%6.2f)    %8.1f (%6.2f)  %7.2f   %7.1f (%6.2f)  %7.2f   %15.3f   %12.3f%n",
                    round, base, c.perSecond(), k.latency().median(), k.perSecond(), k.text().median(),
                    n.latency().median(), n.perSecond(), n.text().median(), k.latency().median() / base,
                    n.latency().median() / base);
            System.out.printf(Locale.ROOT, "           server total/inference ms: classify %.1f/%.1f, cached %.1f/%.1f, new %.1f/%.1f%n",
                    c.total().median(), c.inference().median(), k.total().median(), k.inference().median(),
                    n.total().median(), n.inference().median());
        }
        return new Summary(Stats.of(classifyMs).median(), Stats.of(cachedMs).median(), Stats.of(newMs).median(),
                Stats.of(cachedRatios).median(), Stats.of(newRatios).median());
    }

    private static String labels(IntFunction<String> label) {
        StringBuilder json = new StringBuilder("[");
        for (int i = 0; i < 10; i++) {
            json.append(i == 0 ? "" : ",").append('"').append(label.apply(i)).append('"');
        }
        return json.append(']').toString();
    }

    /** Sends {@code body} (JSON) to {@code uri} one request after another for {@code seconds}; every answer must be 200. */
    static Step measure(HttpClient http, URI uri, IntFunction<String> body, double seconds) throws Exception {
        List<Double> latencies = new ArrayList<>();
        List<Double> text = new ArrayList<>();
        List<Double> inference = new ArrayList<>();
        List<Double> total = new ArrayList<>();
        long start = System.nanoTime();
        long stop = start + (long) (seconds * 1e9);
        int n = 0;
        while (System.nanoTime() < stop) {
            HttpRequest request = HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body.apply(n++))).build();
            long t0 = System.nanoTime();
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            long t1 = System.nanoTime();
            if (response.statusCode() != 200) {
                throw new IllegalStateException(uri + " answered " + response.statusCode() + ": " + response.body());
            }
            latencies.add((t1 - t0) / 1e6);
            add(TEXT, response.body(), text);
            add(INFERENCE, response.body(), inference);
            add(TOTAL, response.body(), total);
        }
        return new Step(Stats.of(latencies), Stats.of(text), Stats.of(inference), Stats.of(total),
                (System.nanoTime() - start) / 1e9);
    }

    private static void add(Pattern pattern, String answer, List<Double> into) {
        Matcher m = pattern.matcher(answer);
        if (m.find()) {
            into.add(Double.parseDouble(m.group(1)));
        }
    }
}
