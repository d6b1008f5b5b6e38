package dev.vitserve.backend.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.DeviceRequest;
import dev.vitserve.api.Logits;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.Precision;
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
 * Every architecture besides ViT, built from model.safetensors alone (random-weight fixtures of odd shapes made by
 * testkit/tools/hf-vision-port.py): logits and embeddings within 1e-4 of the PyTorch port of Hugging Face's code, int8
 * within cosine 0.999 of float32 after passing the load-time self-check, and weights whose shapes disagree with
 * config.json refused naming the tensor.
 */
class ArchitecturesGraphTest {

    private static final BackendOptions CPU = new BackendOptions(DeviceRequest.CPU, 2, 8);
    private static final BackendOptions INT8 = new BackendOptions(DeviceRequest.CPU, 2, 8, Precision.INT8);

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
        try (Backend backend = new OnnxBackendProvider().open(model, CPU)) {
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
    void int8StaysWithinCosine0999OfFloat32(String name, @TempDir Path folder) throws BackendException {
        ModelFiles model = FixtureModels.weightsOnly(name, folder);
        VitConfig config = model.config();
        try (Backend fp32 = new OnnxBackendProvider().open(model, CPU);
             Backend int8 = new OnnxBackendProvider().open(model, INT8)) {
            assertEquals(Precision.INT8, int8.build().precision());
            assertTrue(int8.build().operators().contains("checked at load against float32"), int8.build().operators());
            Logits expected = fp32.infer(FixtureModels.pixels(config, 0, 3));
            Logits actual = int8.infer(FixtureModels.pixels(config, 0, 3));
            for (int i = 0; i < 3; i++) {
                double cosine = Logits.cosineSimilarity(expected.row(i), actual.row(i));
                assertTrue(cosine >= 0.999, name + " image " + i + ": cosine " + cosine);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("architectures")
    void weightsDisagreeingWithTheConfigAreRefusedNamingTheTensor(String name, @TempDir Path folder) throws IOException {
        Path source = Fixtures.model(name);
        Map<String, TestSafetensors.Tensor> tensors = TestSafetensors.open(source.resolve("model.safetensors")).tensors();
        String widest = tensors.keySet().stream().filter(t -> (t.contains("encoder.layer.1.") || t.contains("encoder.layers.1.")) && t.endsWith("weight")
                && tensors.get(t).shape().length == 2 && tensors.get(t).shape()[0] != tensors.get(t).shape()[1])
                .findFirst().orElseThrow();
        long[] shape = tensors.get(widest).shape();
        tensors.put(widest, new TestSafetensors.Tensor(new long[] {shape[1], shape[0]}, tensors.get(widest).values()));
        TestSafetensors.write(folder.resolve("model.safetensors"), tensors);
        Files.copy(source.resolve("config.json"), folder.resolve("config.json"));
        Files.copy(source.resolve("preprocessor_config.json"), folder.resolve("preprocessor_config.json"));
        ModelFiles model = FixtureModels.withWeights(name, folder, FixtureModels.config(source));
        BackendException e = assertThrows(BackendException.class, () -> new OnnxBackendProvider().open(model, CPU));
        assertTrue(e.getMessage().startsWith("tensor '" + widest + "' in " + folder.resolve("model.safetensors")
                + " has shape [" + shape[1] + ", " + shape[0] + "], but config.json needs [" + shape[0] + ", " + shape[1]
                + "]"), e.getMessage());
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
        BackendException e = assertThrows(BackendException.class, () -> new OnnxBackendProvider().open(grid, CPU));
        assertTrue(e.getMessage().startsWith("tensor '" + table + "' in "), e.getMessage());
        assertTrue(e.getMessage().contains(" has shape [172, 4], "), e.getMessage());
        assertTrue(e.getMessage().contains("but config.json needs [228, 4] ("), e.getMessage());
        ModelFiles shared = beitWithConfig(folder.resolve("shared"), "use_shared_relative_position_bias", true);
        e = assertThrows(BackendException.class, () -> new OnnxBackendProvider().open(shared, CPU));
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
