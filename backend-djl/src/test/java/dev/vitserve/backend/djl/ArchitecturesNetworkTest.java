package dev.vitserve.backend.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.Logits;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.VitConfig;
import dev.vitserve.testkit.FixtureModels;
import dev.vitserve.testkit.Fixtures;
import dev.vitserve.testkit.TestSafetensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every architecture besides ViT, built with NDArray operations from model.safetensors alone (the fixtures of
 * testkit/tools/hf-vision-port.py): logits and embeddings within 1e-4 of the PyTorch port of Hugging Face's code, and a
 * tensor whose shape disagrees with config.json refused naming it.
 */
class ArchitecturesNetworkTest {

    static Iterable<String> architectures() {
        return Fixtures.architectureModelNames();
    }

    @ParameterizedTest
    @MethodSource("architectures")
    void logitsAndEmbeddingsAreThoseOfThePort(String name, @TempDir Path folder) throws BackendException {
        ModelFiles model = FixtureModels.weightsOnly(name, folder);
        VitConfig config = model.config();
        float[][] logits = Fixtures.referencePixels(name, "logits");
        float[][] embeddings = Fixtures.referencePixels(name, "embeddings");
        try (Backend backend = new DjlBackendProvider().open(model, DjlBackendTest.CPU)) {
            assertTrue(backend.embeds());
            Logits actual = backend.infer(FixtureModels.pixels(config, 0, logits.length));
            assertEquals(config.embeddingSize(), embeddings[0].length);
            for (int i = 0; i < logits.length; i++) {
                assertArrayEquals(logits[i], actual.row(i), 1e-4f, name + " image " + i);
                assertArrayEquals(embeddings[i], actual.embedding(i), 1e-4f, name + " embedding " + i);
                assertArrayEquals(actual.row(i), backend.infer(FixtureModels.pixels(config, i, 1)).row(0), 1e-5f,
                        name + " image " + i + " alone");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("architectures")
    void weightsDisagreeingWithTheConfigAreRefusedNamingTheTensor(String name, @TempDir Path folder) throws IOException {
        Path source = Fixtures.model(name);
        Map<String, TestSafetensors.Tensor> tensors = TestSafetensors.open(source.resolve("model.safetensors")).tensors();
        String changed = tensors.keySet().stream().filter(t -> t.contains("encoder.layer.1.") && t.endsWith("weight")
                        && tensors.get(t).shape().length == 2 && tensors.get(t).shape()[0] != tensors.get(t).shape()[1])
                .findFirst().orElseThrow();
        long[] shape = tensors.get(changed).shape();
        tensors.put(changed, new TestSafetensors.Tensor(new long[] {shape[1], shape[0]}, tensors.get(changed).values()));
        TestSafetensors.write(folder.resolve("model.safetensors"), tensors);
        Files.copy(source.resolve("config.json"), folder.resolve("config.json"));
        ModelFiles model = FixtureModels.withWeights(name, folder, FixtureModels.config(source));
        BackendException e = assertThrows(BackendException.class,
                () -> new DjlBackendProvider().open(model, DjlBackendTest.CPU));
        assertTrue(e.getMessage().startsWith("tensor '" + changed + "' in " + folder.resolve("model.safetensors")
                + " has shape [" + shape[1] + ", " + shape[0] + "], but config.json ("), e.getMessage());
        assertTrue(e.getMessage().endsWith(") needs [" + shape[0] + ", " + shape[1] + "]"), e.getMessage());
    }
}
