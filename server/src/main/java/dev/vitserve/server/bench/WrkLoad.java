package dev.vitserve.server.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Load from Debian's {@code wrk}, a C load generator that costs the machine far less than a Java
 * client: {@code clients} connections, each posting the same image as soon as its answer arrives.
 */
final class WrkLoad {

    /**
     * What wrk reports for one run.
     *
     * @param engineP50Ms the median of the engine times the successful answers report ({@code timing_ms.inference})
     */
    record Result(double requestsPerSecond, double p50Ms, double p99Ms, long requests, long non2xx, long socketErrors,
                  double engineP50Ms) {
    }

    private static final Pattern RATE = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
    private static final Pattern COUNT = Pattern.compile("(\\d+) requests in");
    private static final Pattern NON2XX = Pattern.compile("Non-2xx or 3xx responses: (\\d+)");
    private static final Pattern ENGINE = Pattern.compile("engine p50 ([0-9.]+) ms");
    private static final Pattern SOCKET = Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)");

    private WrkLoad() {
    }

    /** Whether {@code wrk} runs here. */
    static boolean available() {
        try {
            Process p = new ProcessBuilder("wrk", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS);
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    static Result run(String url, Path image, String contentType, int clients, Duration duration) throws Exception {
        Path script = Files.createTempFile("vitserve-wrk-", ".lua");
        try {
            Files.writeString(script, String.join("\n",
                    "local f = io.open(\"" + image.toAbsolutePath() + "\", \"rb\")",
                    "wrk.method = \"POST\"",
                    "wrk.body = f:read(\"*all\")",
                    "f:close()",
                    "wrk.headers[\"Content-Type\"] = \"" + contentType + "\"",
                    // the engine time each answer reports, gathered from every thread when the run is done
                    "local threads = {}",
                    "function setup(thread) table.insert(threads, thread) end",
                    "engine = {}",
                    "function response(status, headers, body)",
                    "  local ms = body:match('\"inference\":([0-9.]+)')",
                    "  if status == 200 and ms then engine[#engine + 1] = tonumber(ms) end",
                    "end",
                    "function done(summary, latency, requests)",
                    "  local all = {}",
                    "  for _, t in ipairs(threads) do for _, v in ipairs(t:get(\"engine\")) do all[#all + 1] = v end end",
                    "  table.sort(all)",
                    "  if #all > 0 then io.write(string.format(\"engine p50 %.3f ms\\n\", all[math.ceil(#all / 2)])) end",
                    "end", ""));
            List<String> command = List.of("wrk", "-t" + Math.min(clients, 2), "-c" + clients,
                    "-d" + Math.max(1, duration.toSeconds()) + "s", "--timeout", "60s", "--latency", "-s", script.toString(), url);
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(duration.toSeconds() + 120, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IOException("wrk failed:\n" + out);
            }
            Matcher socket = SOCKET.matcher(out);
            long socketErrors = 0;
            if (socket.find()) {
                for (int g = 1; g <= 4; g++) {
                    socketErrors += Long.parseLong(socket.group(g));
                }
            }
            return new Result(number(RATE, out), percentile(out, "50%"), percentile(out, "99%"), (long) number(COUNT, out),
                    (long) numberOr(NON2XX, out, 0), socketErrors, numberOr(ENGINE, out, Double.NaN));
        } finally {
            Files.deleteIfExists(script);
        }
    }

    private static double percentile(String out, String which) {
        Matcher m = Pattern.compile("\\s" + Pattern.quote(which) + "\\s+([0-9.]+)(us|ms|s)").matcher(out);
        if (!m.find()) {
            return Double.NaN;
        }
        double value = Double.parseDouble(m.group(1));
        return switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "us" -> value / 1000;
            case "s" -> value * 1000;
            default -> value;
        };
    }

    private static double number(Pattern pattern, String out) {
        Matcher m = pattern.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("unexpected wrk output:\n" + out);
        }
        return Double.parseDouble(m.group(1));
    }

    private static double numberOr(Pattern pattern, String out, double fallback) {
        Matcher m = pattern.matcher(out);
        return m.find() ? Double.parseDouble(m.group(1)) : fallback;
    }
}
