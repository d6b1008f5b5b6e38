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
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vitserve.testkit.FixtureModels;
import dev.vitserve.testkit.Fixtures;
import dev.vitserve.testkit.TestSafetensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
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
        String changed = tensors.keySet().stream().filter(t -> (t.contains("encoder.layer.1.") || t.contains("encoder.layers.1.")) && t.endsWith("weight")
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

    /**
     * BEiT's relative position bias tables are sized by the grid of patches: a config.json whose image_size makes
     * another grid than the tables', or that asks for the shared table of a checkpoint with one per layer, is refused
     * naming the table.
     */
    @Test
    void beitBiasTablesDisagreeingWithTheConfigAreRefusedNamingThem(@TempDir Path folder) throws IOException {
        String table = "beit.encoder.layer.0.attention.attention.relative_position_bias.relative_position_bias_table";
        ModelFiles grid = beitWithConfig(folder.resolve("grid"), "image_size", 48);
        BackendException e = assertThrows(BackendException.class, () -> new DjlBackendProvider().open(grid, DjlBackendTest.CPU));
        assertTrue(e.getMessage().startsWith("tensor '" + table + "' in "), e.getMessage());
        assertTrue(e.getMessage().contains(" has shape [172, 4], "), e.getMessage());
        assertTrue(e.getMessage().endsWith(") needs [228, 4]"), e.getMessage());
        ModelFiles shared = beitWithConfig(folder.resolve("shared"), "use_shared_relative_position_bias", true);
        e = assertThrows(BackendException.class, () -> new DjlBackendProvider().open(shared, DjlBackendTest.CPU));
        assertTrue(e.getMessage().contains(" has no tensor 'beit.encoder.relative_position_bias.relative_position_bias_table'"),
                e.getMessage());
    }

    /** beit-shape's weights beside its config.json with one key changed. */
    private static ModelFiles beitWithConfig(Path folder, String key, Object value) throws IOException {
        Path source = Fixtures.model("beit-shape");
        Files.createDirectories(folder);
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(source.resolve("config.json").toFile());
        config.set(key, json.valueToTree(value));
        json.writeValue(folder.resolve("config.json").toFile(), config);
        Files.copy(source.resolve("preprocessor_config.json"), folder.resolve("preprocessor_config.json"));
        Files.copy(source.resolve("model.safetensors"), folder.resolve("model.safetensors"));
        return FixtureModels.withWeights("beit-shape", folder, FixtureModels.config(folder));
    }
}
