package dev.vitserve.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.api.DeviceRequest;
import dev.vitserve.api.Precision;
import dev.vitserve.core.inference.PreprocessPriority;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerConfigTest {

    @TempDir
    Path dir;

    @Test
    void defaultsAreSafe() throws Exception {
        ServerConfig config = ServerConfig.fromArgs(Map.of(), "--model", "m");
        assertEquals("onnx", config.backend());
        assertEquals(DeviceRequest.AUTO, config.device());
        assertEquals("127.0.0.1", config.host());
        assertEquals(8080, config.port());
        assertEquals(20L << 20, config.maxBodySize());
        assertEquals(40_000_000L, config.maxPixels());
        assertEquals(160_000_000L, config.maxRequestPixels());
        assertEquals(3000, config.maxDecodeMs());
        assertEquals(200_000_000L, ServerConfig.fromArgs(Map.of(), "--model", "m", "--max-megapixels", "200")
                .maxRequestPixels(), "a request may always hold one image of the largest size");
        assertEquals(500, ServerConfig.fromArgs(Map.of("VITSERVE_MAX_DECODE_MS", "500"), "--model", "m").maxDecodeMs());
        assertEquals(50_000_000L, ServerConfig.fromArgs(Map.of(), "--model", "m", "--max-request-megapixels", "50")
                .maxRequestPixels());
        assertFalse(config.allowPrivateUrls());
        assertEquals(2, config.maxBatch(false));
        assertEquals(8, config.maxBatch(true));
        assertEquals(Optional.empty(), config.preprocessPriority(), "the server picks idle where it can");
        int cores = Runtime.getRuntime().availableProcessors();
        assertEquals(cores, config.preprocessThreads(PreprocessPriority.IDLE), "idle threads cannot slow the engine");
        assertEquals(Math.max(1, cores / 2), config.preprocessThreads(PreprocessPriority.NORMAL));
        assertEquals(3, ServerConfig.fromArgs(Map.of(), "--model", "m", "--preprocess-threads", "3")
                .preprocessThreads(PreprocessPriority.IDLE));
    }

    @Test
    void preprocessPriorityIsIdleOrNormalInAnyCase() throws Exception {
        assertEquals(Optional.of(PreprocessPriority.NORMAL),
                ServerConfig.fromArgs(Map.of(), "--model", "m", "--preprocess-priority", "normal").preprocessPriority());
        assertEquals(Optional.of(PreprocessPriority.IDLE),
                ServerConfig.fromArgs(Map.of("VITSERVE_PREPROCESS_PRIORITY", "IDLE"), "--model", "m").preprocessPriority());
        assertMessage("expected one of [IDLE, NORMAL]", Map.of(), "--model", "m", "--preprocess-priority", "low");
    }

    @Test
    void precisionIsFp32UnlessFlagEnvironmentOrFileSayInt8() throws Exception {
        assertEquals(Precision.FP32, ServerConfig.fromArgs(Map.of(), "--model", "m").precision());
        assertEquals(Precision.INT8, ServerConfig.fromArgs(Map.of(), "--model", "m", "--precision", "int8").precision());
        assertEquals(Precision.INT8, ServerConfig.fromArgs(Map.of("VITSERVE_PRECISION", "INT8"), "--model", "m").precision());
        Path file = dir.resolve("vitserve.yaml");
        Files.writeString(file, "model: m\nprecision: int8\n");
        assertEquals(Precision.INT8, ServerConfig.fromArgs(Map.of(), "--config", file.toString()).precision());
        assertMessage("unknown precision 'int4': use fp32, int8, bf16, fp16 or auto", Map.of(), "--model", "m", "--precision", "int4");
    }

    @Test
    void withoutOptionsTheModelIsGooglesVitFromTheHub() throws Exception {
        ServerConfig config = ServerConfig.fromArgs(Map.of("HF_ENDPOINT", "https://mirror.example",
                "HF_HUB_CACHE", dir.toString(), "HF_HUB_OFFLINE", "1"));
        assertEquals("google/vit-base-patch16-224", config.model());
        assertEquals("main", config.revision());
        assertEquals("https://mirror.example", config.hub().endpoint());
        assertEquals(dir, config.hub().cacheDir());
        assertTrue(config.hub().offline());
        assertEquals("v2", ServerConfig.fromArgs(Map.of("VITSERVE_REVISION", "v2")).revision());
    }

    @Test
    void flagsWinOverEnvironmentWhichWinsOverTheFile() throws Exception {
        Path file = Files.writeString(dir.resolve("vitserve.yaml"), String.join("\n",
                "model: from-file", "port: 7000", "backend: djl", "max-body-size: 5MB", "maxQueue: 7",
                "allow_private_urls: true", ""));
        Map<String, String> env = Map.of("VITSERVE_PORT", "7100", "VITSERVE_BACKEND", "onnx",
                "VITSERVE_CONFIG", file.toString());
        ServerConfig fileOnly = ServerConfig.fromArgs(Map.of(), "--config", file.toString());
        assertEquals("from-file", fileOnly.model());
        assertEquals(7000, fileOnly.port());
        assertEquals("djl", fileOnly.backend());
        assertEquals(5L << 20, fileOnly.maxBodySize());
        assertEquals(7, fileOnly.maxQueue());
        assertTrue(fileOnly.allowPrivateUrls());

        ServerConfig withEnv = ServerConfig.fromArgs(env);
        assertEquals(7100, withEnv.port());
        assertEquals("onnx", withEnv.backend());
        assertEquals("from-file", withEnv.model());

        ServerConfig withFlags = ServerConfig.fromArgs(env, "--port", "7200", "--allow-private-urls=false");
        assertEquals(7200, withFlags.port());
        assertFalse(withFlags.allowPrivateUrls());
        assertEquals("onnx", withFlags.backend());
    }

    @Test
    void jsonConfigFilesWorkToo() throws Exception {
        Path file = Files.writeString(dir.resolve("vitserve.json"), "{\"model\": \"m\", \"device\": \"cpu\", \"threads\": 3}");
        ServerConfig config = ServerConfig.fromArgs(Map.of(), "--config", file.toString());
        assertEquals(DeviceRequest.CPU, config.device());
        assertEquals(3, config.threads());
    }

    @Test
    void mistakesAreNamed() throws Exception {
        assertMessage("no model given", Map.of(), "--model", "");
        assertMessage("--revision must not be empty", Map.of(), "--revision", " ");
        assertMessage("--port must be between 0 and 65535", Map.of(), "--model", "m", "--port", "70000");
        assertMessage("unknown device 'tpu'", Map.of(), "--model", "m", "--device", "tpu");
        assertMessage("'lots' is not a size", Map.of(), "--model", "m", "--max-body-size", "lots");
        assertMessage("--warmup-inferences must be 0 to 1 000, got -1", Map.of(), "--model", "m", "--warmup-inferences", "-1");
        assertMessage("--max-decode-ms must be 1 to 60 000 ms, got 0", Map.of(), "--model", "m", "--max-decode-ms", "0");
        assertMessage("--max-request-megapixels must be at least --max-megapixels", Map.of(), "--model", "m",
                "--max-request-megapixels", "10");
        assertMessage("Unknown option", Map.of(), "--model", "m", "--colour", "blue");
        Path typo = Files.writeString(dir.resolve("typo.yaml"), "modle: m\n");
        assertMessage("unknown setting 'modle'", Map.of(), "--config", typo.toString());
        Path broken = Files.writeString(dir.resolve("broken.yaml"), "model: [m\n");
        assertMessage("is not valid YAML or JSON", Map.of(), "--config", broken.toString());
        assertMessage("does not exist", Map.of(), "--config", dir.resolve("none.yaml").toString());
        assertMessage("Invalid value", Map.of("VITSERVE_PORT", "eighty"), "--model", "m");
    }

    @Test
    void sizesReadLikePeopleWriteThem() {
        assertEquals(20L << 20, ByteSizeConverter.parse("20MB"));
        assertEquals(512L << 10, ByteSizeConverter.parse("512 KiB"));
        assertEquals(1234, ByteSizeConverter.parse("1234"));
        assertEquals((long) (1.5 * (1 << 30)), ByteSizeConverter.parse("1.5g"));
        assertEquals("20 MB", ByteSizeConverter.format(20L << 20));
    }

    private static void assertMessage(String expected, Map<String, String> env, String... args) {
        ConfigException e = assertThrows(ConfigException.class, () -> ServerConfig.fromArgs(env, args));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
