package dev.vitserve.backend.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.testkit.Concurrently;
import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.Logits;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.VitConfig;
import dev.vitserve.testkit.FixtureModels;
import dev.vitserve.testkit.Fixtures;
import dev.vitserve.testkit.TinyVit;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The ViT built from model.safetensors against the TorchScript model.pt of the same network, for every fixture model. */
class BuiltVitTest {

    private static final int BATCH = 3;
    private static final float TOLERANCE = 1e-4f;

    @TempDir
    static Path withoutTorchScript;

    private static final Map<String, Backend> BUILT = new HashMap<>();
    /** The TorchScript network's logits for images 0..2 of each model. */
    private static final Map<String, Logits> TORCHSCRIPT = new HashMap<>();

    static List<String> models() {
        return Fixtures.modelNames();
    }

    @BeforeAll
    static void load() throws BackendException {
        for (String model : models()) {
            ModelFiles files = FixtureModels.withWeights(model, withoutTorchScript);
            BUILT.put(model, new DjlBackendProvider().open(files, DjlBackendTest.CPU));
            try (Backend torchScript = new DjlBackendProvider().open(FixtureModels.files(model), DjlBackendTest.CPU)) {
                TORCHSCRIPT.put(model, torchScript.infer(FixtureModels.pixels(files.config(), 0, BATCH)));
            }
        }
    }

    @AfterAll
    static void close() {
        BUILT.values().forEach(Backend::close);
    }

    @ParameterizedTest
    @MethodSource("models")
    void logitsMatchTorchScript(String model) throws BackendException {
        Logits built = BUILT.get(model).infer(FixtureModels.pixels(config(model), 0, BATCH));

        assertEquals(BATCH, built.batchSize());
        assertEquals(config(model).numLabels(), built.numLabels());
        for (int i = 0; i < BATCH; i++) {
            assertArrayEquals(TORCHSCRIPT.get(model).row(i), built.row(i), TOLERANCE, model + " image " + i);
        }
    }

    @Test
    void tinyVitMatchesPyTorchsLogits() throws BackendException {
        Logits built = BUILT.get("tiny-vit").infer(TinyVit.pixels(0, BATCH));
        float[][] expected = TinyVit.expectedLogits();
        for (int i = 0; i < BATCH; i++) {
            assertArrayEquals(expected[i], built.row(i), TOLERANCE, "image " + i);
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void batchGivesTheRowsOfSingleImages(String model) throws BackendException {
        Backend backend = BUILT.get(model);
        Logits batch = backend.infer(FixtureModels.pixels(config(model), 0, BATCH));
        for (int i = 0; i < BATCH; i++) {
            assertArrayEquals(backend.infer(FixtureModels.pixels(config(model), i, 1)).row(0), batch.row(i), 1e-5f,
                    model + " image " + i);
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void concurrentCallersGetTheirOwnAnswers(String model) throws Exception {
        Backend backend = BUILT.get(model);
        Concurrently.run(4, thread -> () -> {
            int image = thread % BATCH;
            int count = thread == 3 ? 2 : 1;
            for (int round = 0; round < 5; round++) {
                Logits logits = backend.infer(FixtureModels.pixels(config(model), image, count));
                for (int i = 0; i < count; i++) {
                    assertArrayEquals(TORCHSCRIPT.get(model).row(image + i), logits.row(i), TOLERANCE);
                }
            }
            return null;
        });
    }

    @Test
    void reportsTheSafetensorsFile() {
        Backend backend = BUILT.get("vit-shape-a");
        assertEquals(Fixtures.model("vit-shape-a").resolve("model.safetensors"), backend.weightsFile());
        assertEquals("DJL 0.36.0 with PyTorch 2.7.1", backend.engine());
        assertEquals("cpu", backend.device().id());
    }

    @Test
    void modelPtIsPreferredWhenPresent() throws BackendException {
        ModelFiles both = FixtureModels.withWeights("vit-shape-b", Fixtures.model("vit-shape-b"));
        try (Backend backend = new DjlBackendProvider().open(both, DjlBackendTest.CPU)) {
            assertEquals(Fixtures.model("vit-shape-b").resolve("model.pt"), backend.weightsFile());
        }
    }

    @Test
    void autoDeviceBuildsOnTheCpuHere() throws BackendException {
        ModelFiles files = FixtureModels.withWeights("vit-shape-b", withoutTorchScript);
        try (Backend backend = new DjlBackendProvider().open(files, new dev.vitserve.api.BackendOptions(
                dev.vitserve.api.DeviceRequest.AUTO, DjlBackendTest.CPU.threads(), 1))) {
            assertTrue(backend.device().detail().startsWith("CPU"), backend.device().toString());
        }
    }

    private static VitConfig config(String model) {
        return FixtureModels.config(Fixtures.model(model));
    }
}
