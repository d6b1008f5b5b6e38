package dev.vitserve.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.api.DeviceRequest;
import dev.vitserve.api.Precision;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Several models at start: repeated --model, NAME=, --model-repository, the file's models: list. */
class ModelListConfigTest {

    @TempDir
    Path dir;

    private static List<String> names(ServerConfig config) {
        return config.models().stream().map(ModelSettings::name).toList();
    }

    @Test
    void oneModelTheOldWayIsTheDefaultNamedAfterItsHubIdOrFolder() throws Exception {
        ServerConfig hub = ServerConfig.fromArgs(Map.of(), "--model", "google/vit-base-patch16-224", "--threads", "3");
        assertEquals(List.of("google/vit-base-patch16-224"), names(hub));
        assertEquals(3, hub.models().get(0).threads());
        Path folder = Files.createDirectories(dir.resolve("models/cats"));
        ServerConfig local = ServerConfig.fromArgs(Map.of(), "--model", folder.toString());
        assertEquals(List.of("cats"), names(local));
        assertEquals(folder.toString(), local.model());
    }

    @Test
    void repeatedModelsKeepTheirOrderAndTakeNames() throws Exception {
        ServerConfig config = ServerConfig.fromArgs(Map.of(), "--model", "org/first", "--model", "pets=org/second",
                "--model", "shop/products=" + dir);
        assertEquals(List.of("org/first", "pets", "shop/products"), names(config));
        assertEquals("org/second", config.models().get(1).model());
        assertEquals(dir.toString(), config.models().get(2).model());
        assertEquals("org/first", config.model(), "the first model is the default one");
    }

    @Test
    void aModelRepositoryServesEachSubfolderWithAConfig() throws Exception {
        Files.createDirectories(dir.resolve("b-model"));
        Files.writeString(dir.resolve("b-model/config.json"), "{}");
        Files.createDirectories(dir.resolve("a-model"));
        Files.writeString(dir.resolve("a-model/config.json"), "{}");
        Files.createDirectories(dir.resolve("notes"));
        ServerConfig config = ServerConfig.fromArgs(Map.of(), "--model", "org/first", "--model-repository", dir.toString());
        assertEquals(List.of("org/first", "a-model", "b-model"), names(config));
        assertEquals(dir.resolve("a-model").toString(), config.models().get(1).model());
    }

    @Test
    void theFilesModelListTakesPerModelSettingsOverTheTopLevelDefaults() throws Exception {
        Path file = dir.resolve("vitserve.yaml");
        Files.writeString(file, """
                threads: 2
                max-queue: 10
                backend: onnx
                models:
                  - name: products
                    model: org/products
                    revision: v2
                    backend: djl
                    device: cpu
                    threads: 1
                    max-batch: 4
                    max-batch-delay-ms: 3
                    max_queue: 5
                    precision: int8
                  - model: org/moderation
                """);
        ServerConfig config = ServerConfig.fromArgs(Map.of(), "--config", file.toString());
        assertEquals(List.of("products", "org/moderation"), names(config));
        ModelSettings products = config.models().get(0);
        assertEquals(new ModelSettings("products", "org/products", "v2", "djl", DeviceRequest.CPU, 1, 4, 3, 5,
                Precision.INT8), products);
        ModelSettings moderation = config.models().get(1);
        assertEquals(2, moderation.threads());
        assertEquals(10, moderation.maxQueue());
        assertEquals("onnx", moderation.backend());
        assertEquals("main", moderation.revision());
        assertEquals(Precision.FP32, moderation.precision());
        ServerConfig flags = ServerConfig.fromArgs(Map.of(), "--config", file.toString(), "--model", "org/other");
        assertEquals(List.of("org/other"), names(flags), "models on the command line replace the file's");
        ServerConfig environment = ServerConfig.fromArgs(Map.of("VITSERVE_MODEL", "org/env"), "--config", file.toString());
        assertEquals(List.of("org/env"), names(environment));
    }

    @Test
    void mistakesAreNamed() throws Exception {
        assertMessage("two models are named 'org/x'", "--model", "org/x", "--model", "org/x");
        assertMessage("two models are named 'a'", "--model", "a=org/x", "--model", "a=org/y");
        assertMessage("model name 'a b'", "--model", "a b=org/x");
        assertMessage("is not a folder", "--model-repository", dir.resolve("none").toString());
        assertMessage("--max-models is 1", "--model", "org/x", "--model", "org/y", "--max-models", "1");
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, "models:\n  - model: org/x\n    colour: blue\n");
        assertMessage("unknown model setting 'colour'", "--config", file.toString());
        Files.writeString(file, "models:\n  - model: org/x\n    threads: 0\n");
        assertMessage("'threads' must be a whole number from 1 to 256, got 0", "--config", file.toString());
        Files.writeString(file, "models:\n  - name: x\n");
        assertMessage("needs a 'model'", "--config", file.toString());
        Path folder = Files.createDirectories(dir.resolve("folder-model"));
        Files.writeString(file, "models:\n  - name: local\n    model: " + folder + "\n    revision: v2\n");
        assertMessage("model 'local' is the local folder " + folder + ", which has no revision 'v2': revisions apply"
                + " to Hugging Face Hub ids only", "--config", file.toString());
        assertMessage("revisions apply to Hugging Face Hub ids only", "--model", folder.toString(), "--revision", "v2");
    }

    private static void assertMessage(String expected, String... args) {
        ConfigException e = assertThrows(ConfigException.class, () -> ServerConfig.fromArgs(Map.of(), args));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
