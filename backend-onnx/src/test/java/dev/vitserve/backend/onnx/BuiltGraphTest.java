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
import dev.vitserve.api.VitConfig;
import dev.vitserve.testkit.FixtureModels;
import dev.vitserve.testkit.Fixtures;
import dev.vitserve.testkit.TestSafetensors;
import dev.vitserve.testkit.TinyVit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The network built from model.safetensors answers as the exported onnx/model.onnx does, and bad weights are named. */
class BuiltGraphTest {

    private static final BackendOptions CPU = new BackendOptions(DeviceRequest.CPU, 2, 8);

    static Iterable<String> fixtureModels() {
        return Fixtures.modelNames();
    }

    @ParameterizedTest
    @MethodSource("fixtureModels")
    void builtNetworkGivesTheLogitsOfTheExportedOne(String name, @TempDir Path folder) throws BackendException {
        ModelFiles built = FixtureModels.weightsOnly(name, folder);
        VitConfig config = built.config();
        try (Backend fromWeights = new OnnxBackendProvider().open(built, CPU);
             Backend fromExport = new OnnxBackendProvider().open(FixtureModels.files(name), CPU)) {
            assertEquals(folder.resolve("model.safetensors"), fromWeights.weightsFile());
            Logits expected = fromExport.infer(FixtureModels.pixels(config, 0, 3));
            Logits actual = fromWeights.infer(FixtureModels.pixels(config, 0, 3));
            assertEquals(3, actual.batchSize());
            assertEquals(config.numLabels(), actual.numLabels());
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(expected.row(i), actual.row(i), 1e-4f, name + " image " + i);
                assertArrayEquals(actual.row(i), fromWeights.infer(FixtureModels.pixels(config, i, 1)).row(0), 1e-5f,
                        name + " image " + i + " alone");
            }
        }
    }

    @Test
    void builtTinyVitGivesPyTorchsLogits(@TempDir Path folder) throws BackendException {
        float[][] expected = TinyVit.expectedLogits();
        try (Backend backend = new OnnxBackendProvider().open(FixtureModels.weightsOnly("tiny-vit", folder), CPU)) {
            Logits logits = backend.infer(TinyVit.pixels(0, 3));
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(expected[i], logits.row(i), 1e-4f, "image " + i);
            }
        }
    }

    @Test
    void exportedFileIsPreferredToTheWeights() throws BackendException {
        ModelFiles both = FixtureModels.withWeights("tiny-vit", Fixtures.tinyVit(), FixtureModels.config(Fixtures.tinyVit()));
        try (Backend backend = new OnnxBackendProvider().open(both, CPU)) {
            assertEquals(Fixtures.tinyVit().resolve("onnx/model.onnx"), backend.weightsFile());
        }
    }

    @Test
    void wrongShapeNamesTheTensorAndBothShapes(@TempDir Path folder) throws IOException {
        ModelFiles model = rewritten("vit-shape-a", folder, tensors -> {
            String name = "vit.encoder.layer.1.intermediate.dense.weight";
            tensors.put(name, new TestSafetensors.Tensor(new long[] {48, 96}, tensors.get(name).values()));
        });
        BackendException e = assertThrows(BackendException.class, () -> new OnnxBackendProvider().open(model, CPU));
        assertTrue(e.getMessage().startsWith("tensor 'vit.encoder.layer.1.intermediate.dense.weight' in "
                + folder.resolve("model.safetensors") + " has shape [48, 96], but config.json needs [96, 48]"), e.getMessage());
    }

    @Test
    void missingTensorIsNamedWithWhatIsBuilt(@TempDir Path folder) throws IOException {
        ModelFiles model = rewritten("vit-shape-b", folder, tensors -> tensors.remove("classifier.weight"));
        BackendException e = assertThrows(BackendException.class, () -> new OnnxBackendProvider().open(model, CPU));
        assertTrue(e.getMessage().startsWith(folder.resolve("model.safetensors") + " has no tensor 'classifier.weight'"),
                e.getMessage());
        assertTrue(e.getMessage().contains("ViTForImageClassification"), e.getMessage());
    }

    @Test
    void qkvBiasInConfigNeedsTheBiasTensors(@TempDir Path folder) throws IOException {
        ModelFiles noBias = rewritten("vit-shape-a", folder, tensors -> { });
        VitConfig config = noBias.config();
        VitConfig withBias = new VitConfig(config.imageHeight(), config.imageWidth(), config.numChannels(),
                config.patchSize(), config.hiddenSize(), config.numLayers(), config.numHeads(), config.intermediateSize(),
                config.layerNormEps(), true, config.numLabels());
        ModelFiles model = new ModelFiles("vit-shape-a", folder, withBias, noBias.weights());
        BackendException e = assertThrows(BackendException.class, () -> new OnnxBackendProvider().open(model, CPU));
        assertTrue(e.getMessage().contains("has no tensor 'vit.encoder.layer.0.attention.attention.query.bias'"),
                e.getMessage());
    }

    @Test
    void activationOtherThanGeluIsRefused(@TempDir Path folder) {
        ModelFiles built = FixtureModels.weightsOnly("tiny-vit", folder);
        VitConfig c = built.config();
        VitConfig relu = new VitConfig(c.imageHeight(), c.imageWidth(), c.numChannels(), c.patchSize(), c.hiddenSize(),
                c.numLayers(), c.numHeads(), c.intermediateSize(), c.layerNormEps(), c.qkvBias(), c.numLabels(), "relu");
        ModelFiles model = new ModelFiles("tiny-vit", folder, relu, built.weights());
        BackendException e = assertThrows(BackendException.class, () -> new OnnxBackendProvider().open(model, CPU));
        assertTrue(e.getMessage().startsWith("config.json has hidden_act 'relu', but vitserve builds"
                + " ViTForImageClassification networks with hidden_act 'gelu'"), e.getMessage());
    }

    @Test
    void folderWithNeitherNetworkNorWeightsNamesWhatWasLookedFor(@TempDir Path empty) {
        ModelFiles model = new ModelFiles("tiny-vit", empty, FixtureModels.config(Fixtures.tinyVit()));
        BackendException e = assertThrows(BackendException.class, () -> new OnnxBackendProvider().open(model, CPU));
        assertTrue(e.getMessage().contains("no onnx/model.onnx, model.onnx or model.safetensors in "
                + empty.toAbsolutePath()), e.getMessage());
    }

    /** A build-only copy of a fixture whose tensors were changed. */
    private static ModelFiles rewritten(String name, Path folder,
                                        Consumer<Map<String, TestSafetensors.Tensor>> change)
            throws IOException {
        Path source = Fixtures.model(name);
        Map<String, TestSafetensors.Tensor> tensors =
                TestSafetensors.open(source.resolve("model.safetensors")).tensors();
        change.accept(tensors);
        TestSafetensors.write(folder.resolve("model.safetensors"), tensors);
        Files.copy(source.resolve("config.json"), folder.resolve("config.json"));
        return FixtureModels.withWeights(name, folder, FixtureModels.config(source));
    }
}
