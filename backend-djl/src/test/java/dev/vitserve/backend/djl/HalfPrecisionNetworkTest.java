package dev.vitserve.backend.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.CpuFeatures;
import dev.vitserve.api.DeviceRequest;
import dev.vitserve.api.Logits;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.api.Precision;
import dev.vitserve.testkit.FixtureModels;
import dev.vitserve.testkit.Fixtures;
import dev.vitserve.testkit.TestSafetensors;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ViT and DeiT networks built in half precision: bfloat16 (through the backend, on this CPU when it has it)
 * and float16 (the GPU's format; its graph is built and run here on libtorch's CPU kernels, as no GPU is at hand),
 * each within a cosine of 0.999 of float32's logits; and bf16 refused through the real open path on a CPU without it.
 */
class HalfPrecisionNetworkTest {

    private static final CpuFeatures NO_BF16 = CpuFeatures.parse("flags : fpu avx2 avx512f\n", "/fake/cpuinfo");

    @BeforeAll
    static void start() throws BackendException {
        PyTorchRuntime.start(DjlBackendTest.CPU.threads());
    }

    @Test
    void float16NetworksOfVitAndDeitAnswerAsFloat32() throws BackendException {
        for (String model : new String[] {"vit-shape-a", "deit-teacher-shape"}) {
            Path folder = Fixtures.model(model);
            var config = FixtureModels.config(folder);
            TestSafetensors weights = TestSafetensors.open(folder.resolve("model.safetensors"));
            try (TorchNetwork fp32 = ArchitectureNetworks.build(config, weights, Device.cpu(), DataType.FLOAT32);
                 TorchNetwork fp16 = ArchitectureNetworks.build(config, weights, Device.cpu(), DataType.FLOAT16)) {
                PixelBatch pixels = FixtureModels.pixels(config, 0, 3);
                assertClose(model + " fp16", run(fp32, pixels, config.numLabels()), run(fp16, pixels, config.numLabels()),
                        config.numLabels());
            }
        }
    }

    @Test
    void bf16ThroughTheBackendAnswersAsFp32OrIsRefused(@TempDir Path dir) throws BackendException {
        ModelFiles files = FixtureModels.withWeights("vit-shape-b", dir);
        PixelBatch pixels = FixtureModels.pixels(files.config(), 0, 3);
        BackendOptions bf16 = new BackendOptions(DeviceRequest.CPU, 2, 4, Precision.BF16);
        CpuFeatures cpu = CpuFeatures.detect();
        if (!cpu.bf16()) {
            BackendException e = assertThrows(BackendException.class, () -> DjlBackend.open(files, bf16, cpu));
            assertTrue(e.getMessage().contains("this CPU lists neither"), e.getMessage());
            return;
        }
        try (Backend fp32 = DjlBackend.open(files, new BackendOptions(DeviceRequest.CPU, 2, 4), cpu);
             Backend half = DjlBackend.open(files, bf16, cpu)) {
            assertEquals(Precision.BF16, half.build().precision());
            assertEquals(String.join(" ", cpu.bf16Flags()), half.build().cpuFeatures());
            Logits expected = fp32.infer(pixels);
            Logits actual = half.infer(pixels);
            assertClose("vit-shape-b bf16", expected.values(), actual.values(), files.config().numLabels());
            for (int i = 0; i < 3; i++) {
                double cosine = Logits.cosineSimilarity(expected.embedding(i), actual.embedding(i));
                assertTrue(cosine >= 0.999, "embedding " + i + ": cosine " + cosine);
            }
        }
    }

    @Test
    void bf16IsRefusedOnACpuWithoutItThroughTheOpenPath(@TempDir Path dir) {
        ModelFiles files = FixtureModels.withWeights("vit-shape-b", dir);
        BackendException e = assertThrows(BackendException.class, () -> DjlBackend.open(files,
                new BackendOptions(DeviceRequest.CPU, 2, 4, Precision.BF16), NO_BF16));
        assertTrue(e.getMessage().startsWith("--precision bf16 is refused on this CPU: this CPU lists neither amx_bf16"
                + " nor avx512_bf16 in /fake/cpuinfo"), e.getMessage());
    }

    @Test
    void otherArchitecturesRefuseHalfPrecision() throws BackendException {
        Path folder = Fixtures.model("swin-shape");
        var config = FixtureModels.config(folder);
        TestSafetensors weights = TestSafetensors.open(folder.resolve("model.safetensors"));
        BackendException e = assertThrows(BackendException.class,
                () -> ArchitectureNetworks.build(config, weights, Device.cpu(), DataType.BFLOAT16));
        assertTrue(e.getMessage().contains("in float32 only"), e.getMessage());
    }

    private static float[] run(TorchNetwork network, PixelBatch batch, int labels) {
        try (var manager = network.manager().newSubManager()) {
            var input = manager.create(batch.pixels().duplicate(), new ai.djl.ndarray.types.Shape(batch.shape()));
            return network.newRunner().run(input).get(0).toFloatArray();
        } catch (ai.djl.translate.TranslateException e) {
            throw new AssertionError(e);
        }
    }

    private static void assertClose(String what, float[] expected, float[] actual, int labels) {
        for (int i = 0; i < expected.length / labels; i++) {
            float[] a = java.util.Arrays.copyOfRange(expected, i * labels, (i + 1) * labels);
            float[] b = java.util.Arrays.copyOfRange(actual, i * labels, (i + 1) * labels);
            double cosine = Logits.cosineSimilarity(a, b);
            assertTrue(cosine >= 0.999, what + " image " + i + ": cosine to float32 " + cosine);
            assertTrue(!java.util.Arrays.equals(a, b), what + " image " + i + ": the very float32 logits");
        }
    }
}
