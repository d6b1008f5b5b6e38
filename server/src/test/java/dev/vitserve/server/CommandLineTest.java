package dev.vitserve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.testkit.Fixtures;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What an operator sees running {@code java -jar vitserve.jar}: help, start-up errors, the ready line, config files. */
class CommandLineTest {

    static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    @Test
    void helpExplainsEveryOptionAndExitsZero() throws Exception {
        try (ServerProcess help = ServerProcess.start(Map.of(), "--help")) {
            assertEquals(0, help.awaitExit());
            for (String option : new String[] {"--model", "--backend", "--device", "--host", "--port", "--config",
                "--allow-private-urls", "--threads", "--max-body-size", "--max-megapixels", "--max-files", "VITSERVE_"}) {
                assertTrue(help.output().contains(option), option + " in\n" + help.output());
            }
            assertFalse(help.output().contains("WARN"), "help renders without warnings:\n" + help.output());
        }
    }

    @Test
    void versionNamesTheProjectVersionAndTheGitCommit() throws Exception {
        String expected = System.getProperty("vitserve.projectVersion");
        assertTrue(expected != null && !expected.isBlank(), "the build passes the project version");
        try (ServerProcess version = ServerProcess.start(Map.of(), "--version")) {
            assertEquals(0, version.awaitExit());
            String first = version.output().lines().findFirst().orElse("");
            assertTrue(first.startsWith("vitserve " + expected), first);
            String commit = headCommit();
            if (commit != null) {
                assertTrue(first.contains("(git " + commit.substring(0, 10)), "the commit " + commit + " in: " + first);
            }
        }
    }

    /** HEAD's commit when the tests run in a git checkout with git installed, else null. */
    private static String headCommit() throws InterruptedException {
        try {
            Process git = new ProcessBuilder("git", "rev-parse", "HEAD").redirectErrorStream(true).start();
            String out = new String(git.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
            return git.waitFor() == 0 && out.matches("[0-9a-f]{40}") ? out : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }

    @Test
    void anUnknownBackendStopsStartUpListingTheBackendsFound() throws Exception {
        try (ServerProcess server = ServerProcess.start(Map.of(), "--model", Fixtures.tinyVit().toString(),
                "--backend", "tensorrt", "--port", "0")) {
            assertEquals(1, server.awaitExit());
            assertTrue(server.output().contains("unknown backend 'tensorrt'"), server.output());
            assertTrue(server.output().contains("djl") && server.output().contains("onnx"), server.output());
        }
    }

    @Test
    void aBrokenModelFolderStopsStartUpNamingTheFile() throws Exception {
        Files.copy(Fixtures.tinyVit().resolve("preprocessor_config.json"), dir.resolve("preprocessor_config.json"));
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"vit\", \"id2label\": [1, 2]}");
        try (ServerProcess server = ServerProcess.start(Map.of(), "--model", dir.toString(), "--port", "0")) {
            assertEquals(1, server.awaitExit());
            assertTrue(server.output().contains(dir.resolve("config.json") + ": id2label must be"), server.output());
        }
        // no --model: google/vit-base-patch16-224 from the Hub; offline with an empty cache, it cannot be had
        try (ServerProcess server = ServerProcess.start(Map.of("HF_HUB_OFFLINE", "1",
                "HF_HUB_CACHE", dir.resolve("empty-cache").toString()), "--port", "0")) {
            assertEquals(1, server.awaitExit());
            assertTrue(server.output().contains("google/vit-base-patch16-224 is not in the cache at "
                    + dir.resolve("empty-cache") + " and offline mode is on (HF_HUB_OFFLINE=1)"), server.output());
        }
    }

    @Test
    void sighupWithoutTlsSaysThereIsNothingToReloadAndATakenPortIsNamed() throws Exception {
        try (ServerProcess server = ServerProcess.start(Map.of(), "--model", Fixtures.tinyVit().toString(),
                "--backend", "fake", "--port", "0", "--shutdown-grace-ms", "0")) {
            server.awaitLine("ready in");
            String line;
            do { // "ready in" is logged just before the start completes: a SIGHUP then may still find it starting
                assertEquals(0, new ProcessBuilder("kill", "-HUP", String.valueOf(server.process.pid())).start()
                        .waitFor());
                line = server.awaitLine("SIGHUP");
            } while (line.contains("still starting"));
            assertTrue(line.contains("nothing to reload") && line.contains("plain HTTP"), line);
            assertTrue(!server.output().contains("TLS certificate unchanged"), server.output());
        }
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"));
             ServerProcess server = ServerProcess.start(Map.of(), "--model", Fixtures.tinyVit().toString(),
                     "--backend", "fake", "--host", "127.0.0.1", "--port", String.valueOf(taken.getLocalPort()))) {
            assertEquals(1, server.awaitExit());
            assertTrue(server.output().contains("the API listener cannot listen on 127.0.0.1:" + taken.getLocalPort())
                    && server.output().contains("choose another port with --port"), server.output());
        }
    }

    @Test
    void aConfigFileThatDiffersOnlyInBackendSwitchesTheEngine() throws Exception {
        String common = "model: " + Fixtures.tinyVit() + "\nport: 0\ndevice: cpu\n";
        Path onnx = Files.writeString(dir.resolve("onnx.yaml"), common + "backend: onnx\n");
        Path djl = Files.writeString(dir.resolve("djl.yaml"), common + "backend: djl\n");
        String onnxTop = null;
        for (Path config : new Path[] {onnx, djl}) {
            try (ServerProcess server = ServerProcess.start(Map.of(), "--config", config.toString())) {
                int port = server.awaitReady();
                assertTrue(server.output().contains("device cpu"), server.output());
                String models = get(port, "/v1/models");
                String backend = config == onnx ? "onnx" : "djl";
                assertTrue(models.contains("\"backend\":\"" + backend + "\""), models);
                assertTrue(models.contains(config == onnx ? "ONNX Runtime" : "PyTorch"), models);
                String top = classifyTop(port);
                if (onnxTop == null) {
                    onnxTop = top;
                } else {
                    assertEquals(onnxTop, top);
                }
            }
        }
    }

    @Test
    void environmentVariablesConfigureTheServerAndFlagsWin() throws Exception {
        try (ServerProcess server = ServerProcess.start(
                Map.of("VITSERVE_MODEL", Fixtures.tinyVit().toString(), "VITSERVE_BACKEND", "djl", "VITSERVE_PORT", "1"),
                "--port", "0", "--backend", "onnx", "--preprocess-priority", "normal")) {
            int port = server.awaitReady();
            assertTrue(get(port, "/v1/models").contains("\"backend\":\"onnx\""));
            assertTrue(server.output().contains("preprocessing at normal priority"), server.output());
        }
        try (ServerProcess server = ServerProcess.start(Map.of(), "--model", Fixtures.tinyVit().toString(),
                "--port", "0")) {
            server.awaitReady();
            assertTrue(server.output().contains("preprocessing at idle priority"), server.output());
        }
    }

    private static String classifyTop(int port) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/classify?top_k=1"))
                .header("Content-Type", "image/png")
                .POST(HttpRequest.BodyPublishers.ofByteArray(Fixtures.bytes(Fixtures.image("chelsea.png")))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        return response.body().replaceAll(".*\"label\":\"([^\"]+)\".*", "$1");
    }

    private static String get(int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }
}
