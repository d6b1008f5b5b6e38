package dev.vitserve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.vitserve.api.DeviceRequest;
import dev.vitserve.core.VitServer;
import dev.vitserve.core.config.ServerConfig;
import dev.vitserve.testkit.Fixtures;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * deploy/kubernetes: every kustomization renders (kubectl kustomize) and validates offline against the
 * Kubernetes schemas (npm kubernetes-models, deploy/kubernetes/validate); the probes, ports, metrics and
 * VITSERVE_* settings in them are the server's own, checked against a running server.
 */
class KubernetesManifestsTest {

    private static final Path KUBERNETES = Path.of("..", "deploy", "kubernetes").toAbsolutePath().normalize();
    private static final Path VALIDATOR = KUBERNETES.resolve("validate");
    private static final List<String> KUSTOMIZATIONS = List.of("base", "overlays/cpu", "overlays/gpu",
            "overlays/cpu-prometheus", "overlays/cpu-shared-cache", "overlays/podman-local", "kserve");
    /** The opt-in overlay with the one cache shared by every replica (a ReadWriteMany claim). */
    private static final String SHARED_CACHE = "overlays/cpu-shared-cache";
    /** The oldest kubectl whose kustomize renders these (kustomize v5); README "Kubernetes" says the same. */
    private static final int KUBECTL_MINIMUM_MINOR = 27;
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private static Vertx vertx;
    private static VitServer server;
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        server = VitServer.start(vertx, ServerConfig.fromArgs(Map.of(), "--model", Fixtures.tinyVit().toString(),
                "--backend", "fake", "--port", "0")).await(60, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws Exception {
        server.close().await(60, TimeUnit.SECONDS);
        vertx.close().await(30, TimeUnit.SECONDS);
    }

    private record Run(int status, String output) {
    }

    private static Run run(Path directory, String input, String... command) throws Exception {
        Process process = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true).start();
        if (input != null) {
            process.getOutputStream().write(input.getBytes(StandardCharsets.UTF_8));
        }
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(300, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish:\n" + output);
        }
        return new Run(process.exitValue(), output);
    }

    private static boolean runs(String... command) {
        try {
            return run(KUBERNETES, null, command).status() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    /** The manifests of a kustomization, rendered as kubectl apply -k would. */
    private static String render(String kustomization) throws Exception {
        Run rendered = run(KUBERNETES, null, "kubectl", "kustomize", kustomization);
        assertEquals(0, rendered.status(), "kubectl kustomize " + kustomization + ":\n" + rendered.output());
        return rendered.output();
    }

    private static List<JsonNode> documents(String yaml) throws IOException {
        List<JsonNode> documents = new ArrayList<>();
        try (var parser = YAML.getFactory().createParser(yaml)) {
            YAML.readValues(parser, JsonNode.class).forEachRemaining(node -> {
                if (node != null && !node.isNull() && !node.isMissingNode()) {
                    documents.add(node);
                }
            });
        }
        return documents;
    }

    private static JsonNode only(List<JsonNode> documents, String kind) {
        List<JsonNode> found = documents.stream().filter(d -> d.path("kind").asText().equals(kind)).toList();
        assertEquals(1, found.size(), "one " + kind);
        return found.get(0);
    }

    private static int get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static Map<String, String> env(JsonNode container) {
        Map<String, String> env = new HashMap<>();
        container.path("env").forEach(variable -> env.put(variable.path("name").asText(), variable.path("value").asText()));
        return env;
    }

    /** Every VITSERVE_ variable names an option; together with the arguments they make a valid configuration. */
    private static ServerConfig configOf(JsonNode container) throws Exception {
        Set<String> known = new HashSet<>();
        ServerConfig.commandLine().getCommandSpec().options().forEach(option -> known.add("VITSERVE_"
                + option.longestName().replaceFirst("^-+", "").replace('-', '_').toUpperCase(Locale.ROOT)));
        Map<String, String> env = env(container);
        for (String name : env.keySet()) {
            assertTrue(!name.startsWith("VITSERVE_") || known.contains(name), name + " is not an option of the server");
        }
        List<String> args = new ArrayList<>();
        container.path("args").forEach(arg -> args.add(arg.asText()));
        return ServerConfig.fromArgs(env, args.toArray(String[]::new));
    }

    /** The probe's path answers 200 on the running server, and its port is the container's HTTP port. */
    private static void checkProbe(JsonNode container, String probe, String expectedPath, int containerPort) throws Exception {
        JsonNode httpGet = container.path(probe).path("httpGet");
        assertEquals(expectedPath, httpGet.path("path").asText(), probe);
        assertEquals(200, get(httpGet.path("path").asText()), probe + " path on the server");
        JsonNode port = httpGet.path("port");
        int resolved = port.isInt() ? port.asInt() : portNamed(container, port.asText());
        assertEquals(containerPort, resolved, probe + " port");
    }

    private static int portNamed(JsonNode container, String name) {
        for (JsonNode port : container.path("ports")) {
            if (port.path("name").asText().equals(name)) {
                return port.path("containerPort").asInt();
            }
        }
        throw new AssertionError("no container port named " + name);
    }

    private static void checkServerContainer(JsonNode container, JsonNode podSpec, String healthPrefix) throws Exception {
        ServerConfig config = configOf(container);
        int containerPort = container.path("ports").get(0).path("containerPort").asInt();
        assertEquals(config.port(), containerPort, "the container port is the one the server listens on");
        assertEquals("0.0.0.0", config.host(), "listening beyond loopback inside the pod");
        assertEquals(ServerConfig.fromArgs(Map.of()).port(), containerPort, "the server's default port");
        checkProbe(container, "readinessProbe", healthPrefix + "/health/ready", containerPort);
        checkProbe(container, "livenessProbe", healthPrefix + "/health/live", containerPort);
        if (container.has("startupProbe")) {
            checkProbe(container, "startupProbe", healthPrefix + "/health/ready", containerPort);
        }

        JsonNode resources = container.path("resources");
        assertEquals(resources.path("requests").path("cpu").asText(), resources.path("limits").path("cpu").asText());
        assertEquals(String.valueOf(config.threads()), resources.path("limits").path("cpu").asText(),
                "one engine thread per core of the limit");
        assertFalse(resources.path("limits").path("memory").isMissingNode(), "a memory limit");
        assertEquals("/data/hf", env(container).get("HF_HOME"));

        if (podSpec != null) {
            long preStop = 0;
            JsonNode command = container.path("lifecycle").path("preStop").path("exec").path("command");
            if (command.size() == 2 && command.get(0).asText().equals("sleep")) {
                preStop = Long.parseLong(command.get(1).asText());
            }
            assertTrue(preStop > 0, "a preStop pause");
            long needed = preStop + (config.shutdownGrace().toMillis() + config.drainTimeout().toMillis()) / 1000;
            assertTrue(podSpec.path("terminationGracePeriodSeconds").asLong() > needed,
                    "terminationGracePeriodSeconds exceeds preStop + grace + drain = " + needed + " s");
        }
    }

    /** The kubectl's minor version (1.N), or -1 when there is no kubectl or it does not say. */
    private static int kubectlMinor() {
        try {
            Run version = run(KUBERNETES, null, "kubectl", "version", "--client", "-o", "json");
            if (version.status() != 0) {
                return -1;
            }
            String json = version.output().substring(Math.max(0, version.output().indexOf('{')));
            String minor = new ObjectMapper().readTree(json).path("clientVersion").path("minor").asText();
            return Integer.parseInt(minor.replaceAll("\\D.*$", ""));
        } catch (Exception e) {
            return -1;
        }
    }

    private static JsonNode volume(JsonNode volumes, String name) {
        for (JsonNode volume : volumes) {
            if (volume.path("name").asText().equals(name)) {
                return volume;
            }
        }
        throw new AssertionError("no volume named " + name + " in " + volumes);
    }

    private static String mountPath(JsonNode container, String volume) {
        for (JsonNode mount : container.path("volumeMounts")) {
            if (mount.path("name").asText().equals(volume)) {
                return mount.path("mountPath").asText();
            }
        }
        throw new AssertionError("volume " + volume + " is not mounted");
    }

    /** The pod specs' volumes of a rendering: Deployments' and InferenceServices' predictors. */
    private static List<JsonNode> volumeLists(List<JsonNode> documents) {
        List<JsonNode> lists = new ArrayList<>();
        for (JsonNode document : documents) {
            if (document.path("kind").asText().equals("Deployment")) {
                lists.add(document.path("spec").path("template").path("spec").path("volumes"));
            } else if (document.path("kind").asText().equals("InferenceService")) {
                lists.add(document.path("spec").path("predictor").path("volumes"));
            }
        }
        return lists;
    }

    /**
     * Storage: every claim a pod uses is created by the same kustomization (none is left for the user to make);
     * by default the HF cache is a per-pod emptyDir, which needs no storage class, and no ReadWriteMany claim
     * is asked for (most default classes offer none: the pods would never schedule); only the opt-in
     * overlay shares one cache through a ReadWriteMany claim.
     */
    private static void checkStorage(String kustomization, List<JsonNode> documents) {
        Set<String> claims = new HashSet<>();
        for (JsonNode document : documents) {
            if (document.path("kind").asText().equals("PersistentVolumeClaim")) {
                claims.add(document.path("metadata").path("name").asText());
                List<String> modes = new ArrayList<>();
                document.path("spec").path("accessModes").forEach(mode -> modes.add(mode.asText()));
                assertTrue(kustomization.equals(SHARED_CACHE) || !modes.contains("ReadWriteMany"),
                        kustomization + ": a ReadWriteMany claim outside the opt-in overlay " + SHARED_CACHE);
            }
        }
        Set<String> used = new HashSet<>();
        for (JsonNode volumes : volumeLists(documents)) {
            volumes.forEach(volume -> {
                if (volume.has("persistentVolumeClaim")) {
                    used.add(volume.path("persistentVolumeClaim").path("claimName").asText());
                }
            });
        }
        assertTrue(claims.containsAll(used), kustomization + " uses claims " + used + " but creates only " + claims);
        assertEquals(claims, used, kustomization + " creates claims no pod uses");
        for (JsonNode volumes : volumeLists(documents)) {
            JsonNode cache = volume(volumes, "hf-cache");
            if (kustomization.equals(SHARED_CACHE)) {
                assertFalse(cache.has("emptyDir"), "the shared cache replaces the per-pod one: " + cache);
                assertTrue(cache.has("persistentVolumeClaim"), "the shared cache is the claim: " + cache);
            } else {
                assertEquals(List.of("emptyDir", "name"), fieldNames(cache),
                        kustomization + ": the HF cache is a per-pod emptyDir by default");
                assertFalse(cache.path("emptyDir").path("sizeLimit").isMissingNode(), "the cache's emptyDir has a size limit");
            }
        }
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        names.sort(null);
        return names;
    }

    @Test
    void everyManifestRendersValidatesAndMatchesTheServer() throws Exception {
        int kubectl = kubectlMinor();
        assumeTrue(kubectl >= 0, "kubectl is not installed (it renders the kustomizations); .ci/run installs it");
        assumeTrue(kubectl >= KUBECTL_MINIMUM_MINOR, "kubectl 1." + kubectl + " is older than 1." + KUBECTL_MINIMUM_MINOR
                + ", whose kustomize v5 renders these kustomizations (Debian 12's kubernetes-client 1.20 cannot):"
                + " .ci/run replaces it with Debian 13's kubectl");
        assumeTrue(runs("node", "--version"), "node is not installed (it runs the schema validator); .ci/run installs it");
        if (!Files.isDirectory(VALIDATOR.resolve("node_modules"))) {
            Run install = run(VALIDATOR, null, "npm", "ci", "--no-audit", "--no-fund");
            assertEquals(0, install.status(), "npm ci in " + VALIDATOR + ":\n" + install.output());
        }
        Map<String, List<JsonNode>> rendered = new HashMap<>();
        for (String kustomization : KUSTOMIZATIONS) {
            String yaml = render(kustomization);
            Run validation = run(VALIDATOR, yaml, "node", "validate.mjs");
            assertEquals(0, validation.status(), kustomization + " against the Kubernetes schemas:\n" + validation.output());
            List<JsonNode> documents = documents(yaml);
            assertEquals(documents.size(), validation.output().lines().filter(l -> l.startsWith("ok ")).count(),
                    validation.output());
            rendered.put(kustomization, documents);
            checkStorage(kustomization, documents);
        }

        for (String kustomization : List.of("base", "overlays/cpu", "overlays/gpu", "overlays/cpu-prometheus",
                SHARED_CACHE, "overlays/podman-local")) {
            List<JsonNode> documents = rendered.get(kustomization);
            JsonNode deployment = only(documents, "Deployment");
            JsonNode pod = deployment.path("spec").path("template").path("spec");
            JsonNode container = pod.path("containers").get(0);
            checkServerContainer(container, pod, "");

            JsonNode service = only(documents, "Service");
            assertEquals(container.path("ports").get(0).path("name").asText(),
                    service.path("spec").path("ports").get(0).path("targetPort").asText(), "the Service reaches the server");
            JsonNode labels = deployment.path("spec").path("template").path("metadata").path("labels");
            service.path("spec").path("selector").fields().forEachRemaining(selector ->
                    assertEquals(selector.getValue().asText(), labels.path(selector.getKey()).asText(),
                            "the Service selects the pods: " + selector.getKey()));
            assertEquals("vitserve", only(documents, "HorizontalPodAutoscaler").path("spec").path("scaleTargetRef")
                    .path("name").asText());
            assertEquals(deployment.path("spec").path("selector"), only(documents, "PodDisruptionBudget").path("spec")
                    .path("selector"));
            assertEquals(env(container).get("HF_HOME"), mountPath(container, "hf-cache"), "the HF cache is HF_HOME");
        }
        // the shared cache changes nothing but the cache's volume (and adds its claim)
        JsonNode cpu = only(rendered.get("overlays/cpu"), "Deployment").deepCopy();
        JsonNode shared = only(rendered.get(SHARED_CACHE), "Deployment").deepCopy();
        for (JsonNode deployment : List.of(cpu, shared)) {
            ((ObjectNode) volume(deployment.path("spec").path("template").path("spec")
                    .path("volumes"), "hf-cache")).removeAll().put("name", "hf-cache");
        }
        assertEquals(cpu, shared, "the shared-cache overlay is the CPU overlay but for the cache");
        // deploy/kubernetes/play-local.sh runs this one with podman kube play: the local image and its tiny model,
        // published on loopback only
        JsonNode local = only(rendered.get("overlays/podman-local"), "Deployment").path("spec").path("template")
                .path("spec").path("containers").get(0);
        assertEquals("localhost/vitserve:local", local.path("image").asText());
        assertEquals("127.0.0.1", local.path("ports").get(0).path("hostIP").asText(), "published on loopback only");
        assertEquals("/opt/vitserve/tiny-vit", configOf(local).model(), "the tiny model in the image");
        assertEquals(List.of("ReadWriteMany"), YAML.convertValue(only(rendered.get(SHARED_CACHE), "PersistentVolumeClaim")
                .path("spec").path("accessModes"), List.class), "the shared cache is ReadWriteMany");

        JsonNode gpu = only(rendered.get("overlays/gpu"), "Deployment").path("spec").path("template").path("spec");
        JsonNode gpuContainer = gpu.path("containers").get(0);
        assertEquals("1", gpuContainer.path("resources").path("limits").path("nvidia.com/gpu").asText());
        assertEquals("nvidia.com/gpu", gpu.path("tolerations").get(0).path("key").asText());
        assertEquals(DeviceRequest.Kind.GPU, configOf(gpuContainer).device().kind(), "the GPU overlay asks for a GPU");

        String metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics"))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
        List<JsonNode> prometheus = rendered.get("overlays/cpu-prometheus");
        JsonNode monitor = only(prometheus, "ServiceMonitor");
        assertEquals(200, get(monitor.path("spec").path("endpoints").get(0).path("path").asText()));
        assertEquals(only(prometheus, "Service").path("spec").path("ports").get(0).path("name").asText(),
                monitor.path("spec").path("endpoints").get(0).path("port").asText());
        String queueMetric = only(prometheus, "HorizontalPodAutoscaler").path("spec").path("metrics").findValue("metric")
                .path("name").asText();
        assertTrue(metrics.lines().anyMatch(line -> line.startsWith(queueMetric + "{model=")),
                "the HPA's metric " + queueMetric + " is exported by the server");
        JsonNode rule = YAML.readTree(KUBERNETES.resolve("overlays/cpu-prometheus/prometheus-adapter-rules.yaml").toFile())
                .path("rules").path("custom").get(0);
        assertTrue(rule.path("seriesQuery").asText().startsWith(queueMetric + "{"), "the adapter rule reads it");
        assertEquals(queueMetric, rule.path("name").path("as").asText(), "and serves it under the HPA's name");

        JsonNode predictor = only(rendered.get("kserve"), "InferenceService").path("spec").path("predictor");
        assertNotNull(predictor.path("containers").get(0));
        // KServe's custom predictor: the Open Inference Protocol's health routes
        checkServerContainer(predictor.path("containers").get(0), null, "/v2");
        assertEquals("/data/hf", mountPath(predictor.path("containers").get(0), "hf-cache"), "the HF cache is HF_HOME");
    }
}
