package dev.vitserve.backend.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The attention rollout the network built from model.safetensors gives beside its logits when asked: within 1e-4 of
 * PyTorch's (testkit/tools/explain-reference.py, Hugging Face's attention as the ports compute it) for ViT, DeiT (with
 * and without teacher), DINOv2 (with and without registers) and BEiT; the same logits as a run without it; none when
 * not asked; refused for Swin.
 */
class AttentionRolloutTest {

    private static final BackendOptions CPU = new BackendOptions(DeviceRequest.CPU, 2, 8);

    static Iterable<String> models() {
        return Fixtures.rolloutModelNames();
    }

    @ParameterizedTest
    @MethodSource("models")
    void rolloutIsThatOfPyTorch(String name, @TempDir Path folder) throws BackendException {
        ModelFiles model = FixtureModels.weightsOnly(name, folder);
        VitConfig config = model.config();
        float[][] expected = Fixtures.referenceRolloutPixels(name);
        try (Backend backend = new DjlBackendProvider().open(model, CPU)) {
            assertTrue(backend.rollsOut());
            Logits plain = backend.infer(FixtureModels.pixels(config, 0, expected.length));
            assertNull(plain.rollout(0), "no rollout unless asked");
            Logits explained = backend.infer(FixtureModels.pixels(config, 0, expected.length), true);
            for (int i = 0; i < expected.length; i++) {
                assertArrayEquals(expected[i], explained.rollout(i), 1e-4f, name + " image " + i);
                assertArrayEquals(plain.row(i), explained.row(i), 1e-5f, name + " logits of image " + i);
            }
            assertArrayEquals(expected[1], backend.infer(FixtureModels.pixels(config, 1, 1), true).rollout(0), 1e-4f,
                    name + " image 1 alone");
        }
    }

    @Test
    void swinRefusesRollout(@TempDir Path folder) throws BackendException {
        ModelFiles model = FixtureModels.weightsOnly("swin-shape", folder);
        try (Backend backend = new DjlBackendProvider().open(model, CPU)) {
            assertFalse(backend.rollsOut());
            assertThrows(BackendException.class, () -> backend.infer(FixtureModels.pixels(model.config(), 0, 1), true));
        }
    }
}
