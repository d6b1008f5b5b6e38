package dev.vitserve.server.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Loads, reloads and unloads models through the management API of a server in its own JVM while 4
 * clients classify on the model that stays and on the one reloaded, and prints every answer's status
 * and the server's resident memory at each step (before and after the unload).
 */
@Command(name = "models-benchmark", mixinStandardHelpOptions = true,
        description = "Model churn under load: failed requests and resident memory per step.")
public final class ModelsBenchmark implements Runnable {

    @Option(names = "--model", required = true, description = "A local ViT folder (a full-size one for real figures).")
    Path model;

    @Option(names = "--image", description = "The photo the clients send (default: a fixture photo).")
    Path image;

    @Option(names = "--clients", defaultValue = "4", description = "Closed-loop clients. Default: ${DEFAULT-VALUE}.")
    int clients;

    @Option(names = "--settle-seconds", defaultValue = "10",
            description = "Load between steps before memory is read. Default: ${DEFAULT-VALUE}.")
    int settleSeconds;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private int adminPort;
    private int port;

    public static void main(String[] args) {
        System.exit(new CommandLine(new ModelsBenchmark()).execute(args));
    }

    @Override
    public void run() {
        try {
            measure();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void measure() throws Exception {
        byte[] photo = Files.readAllBytes(image != null ? image : Path.of("testkit/fixtures/images/coffee.jpg"));
        adminPort = freePort();
        try (ServerUnderTest server = ServerUnderTest.start(List.of("--model", "stays=" + model, "--threads", "1",
                "--admin-port", String.valueOf(adminPort), "--warmup-inferences", "1",
                // the model it loads through the admin API is the one it serves at start: its folder is a root
                "--admin-model-roots", model.toAbsolutePath().getParent().toString()))) {
            port = server.port();
            System.out.printf("model %s, %d clients; resident memory (VmRSS) of the server process%n", model, clients);
            System.out.printf("%-52s %8.0f MB%n", "one model loaded", server.residentMb());
            admin("POST", "/admin/models", "{\"name\": \"reloaded\", \"model\": \"" + model + "\", \"threads\": 1}");
            awaitState("reloaded", "ready");
            System.out.printf("%-52s %8.0f MB%n", "two models loaded", server.residentMb());

            AtomicBoolean done = new AtomicBoolean();
            Map<String, Map<Integer, LongAdder>> statuses = new ConcurrentHashMap<>();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                String target = i % 2 == 0 ? "stays" : "reloaded";
                Thread client = new Thread(() -> classifyUntil(done, target, photo, statuses), "client-" + i);
                client.start();
                threads.add(client);
            }
            settle();
            System.out.printf("%-52s %8.0f MB%n", "two models, under load", server.residentMb());
            long start = System.nanoTime();
            admin("POST", "/admin/models/reloaded/reload", "{\"max-queue\": 32}");
            awaitState("reloaded", "ready");
            System.out.printf("%-52s %8.0f MB (switched after %.1f s)%n", "reloaded under load",
                    server.residentMb(), (System.nanoTime() - start) / 1e9);
            settle();
            System.out.printf("%-52s %8.0f MB%n", "reloaded, old copy freed", server.residentMb());
            admin("POST", "/admin/models", "{\"name\": \"third\", \"model\": \"" + model + "\", \"threads\": 1}");
            awaitState("third", "ready");
            settle();
            double beforeUnload = server.residentMb();
            System.out.printf("%-52s %8.0f MB%n", "a third model loaded (before unload)", beforeUnload);
            admin("DELETE", "/admin/models/third", null);
            awaitState("third", null);
            settle();
            double afterUnload = server.residentMb();
            System.out.printf("%-52s %8.0f MB (%.0f MB returned)%n", "third model unloaded", afterUnload,
                    beforeUnload - afterUnload);
            done.set(true);
            for (Thread client : threads) {
                client.join(TimeUnit.MINUTES.toMillis(2));
            }
            System.out.println("answers by model and status, all steps: " + statuses);
            long failed = statuses.values().stream().flatMap(byStatus -> byStatus.entrySet().stream())
                    .filter(e -> e.getKey() != 200).mapToLong(e -> e.getValue().sum()).sum();
            System.out.println("failed requests: " + failed);
        }
    }

    private void classifyUntil(AtomicBoolean done, String model, byte[] photo,
                               Map<String, Map<Integer, LongAdder>> statuses) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/models/" + model
                + "/classify")).header("Content-Type", "image/jpeg").timeout(Duration.ofMinutes(2))
                .POST(HttpRequest.BodyPublishers.ofByteArray(photo)).build();
        while (!done.get()) {
            int status;
            try {
                status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
            } catch (IOException e) {
                status = -1;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            statuses.computeIfAbsent(model, m -> new ConcurrentHashMap<>())
                    .computeIfAbsent(status, s -> new LongAdder()).increment();
        }
    }

    private void settle() throws InterruptedException {
        Thread.sleep(TimeUnit.SECONDS.toMillis(settleSeconds));
    }

    private String admin(String method, String path, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
                .timeout(Duration.ofSeconds(30));
        request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 202) {
            throw new IllegalStateException(method + " " + path + " answered " + response.statusCode() + ": "
                    + response.body());
        }
        return response.body();
    }

    /** Waits until the model is in the state, not reloading (or gone, for null). */
    private void awaitState(String name, String state) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (System.nanoTime() < deadline) {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/v1/models/" + name)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (state == null ? response.statusCode() == 404 : response.statusCode() == 200
                    && response.body().contains("\"state\":\"" + state + "\"") && response.body().contains("\"reloading\":false")) {
                return;
            }
            if (response.body().contains("\"state\":\"failed\"")) {
                throw new IllegalStateException(name + " failed to load: " + response.body());
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException(name + " never reached " + state);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
