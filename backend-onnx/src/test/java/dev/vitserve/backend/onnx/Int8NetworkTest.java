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
import dev.vitserve.testkit.FixtureModels;
import dev.vitserve.testkit.Fixtures;
import dev.vitserve.testkit.TestSafetensors;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The int8 network builds for every ViT shape the float32 one does and stays close to it; an exported-only model and
 * a GPU are refused with a message saying what to do, never served in fp32 instead.
 */
class Int8NetworkTest {

    private static final BackendOptions FP32 = new BackendOptions(DeviceRequest.CPU, 2, 4);
    private static final BackendOptions INT8 = new BackendOptions(DeviceRequest.CPU, 2, 4, Precision.INT8);

    /** Shapes the fixtures do not have: non-square images, one head, sizes that are not multiples of 8. */
    static List<VitConfig> oddShapes() {
        return List.of(
                new VitConfig(48, 32, 3, 8, 20, 1, 5, 36, 1e-6, false, 4),
                new VitConfig(24, 24, 3, 12, 16, 2, 1, 24, 1e-12, true, 2),
                new VitConfig(32, 32, 1, 4, 12, 3, 3, 20, 1e-5, true, 11));
    }

    @ParameterizedTest
    @MethodSource("oddShapes")
    void oddShapesGiveLogitsCloseToFloat32(VitConfig config, @TempDir Path folder) throws BackendException {
        TestSafetensors.write(folder.resolve("model.safetensors"), randomWeights(config, 42));
        ModelFiles model = FixtureModels.withWeights("odd", folder, config);
        assertCloseToFloat32(model, model, "odd shape " + config);
    }

    /** The 7-bit weights chosen for CPUs without VNNI, on the same odd shapes, whatever CPU runs the test. */
    @ParameterizedTest
    @MethodSource("oddShapes")
    void sevenBitWeightsOnOddShapesGiveLogitsCloseToFloat32(VitConfig config, @TempDir Path folder) throws BackendException {
        TestSafetensors.write(folder.resolve("model.safetensors"), randomWeights(config, 7));
        assertSevenBitCloseToFloat32(FixtureModels.withWeights("odd", folder, config), "odd shape " + config);
    }

    @ParameterizedTest
    @MethodSource("dev.vitserve.testkit.Fixtures#modelNames")
    void fixtureShapesGiveLogitsCloseToFloat32(String name, @TempDir Path folder) throws BackendException {
        ModelFiles weightsOnly = FixtureModels.weightsOnly(name, folder);
        assertCloseToFloat32(weightsOnly, weightsOnly, name);
    }

    @ParameterizedTest
    @MethodSource("dev.vitserve.testkit.Fixtures#modelNames")
    void sevenBitWeightsForCpusWithoutVnniStayCloseToFloat32(String name, @TempDir Path folder) throws BackendException {
        assertSevenBitCloseToFloat32(FixtureModels.weightsOnly(name, folder), name);
    }

    /** The model's int8 network with the 7-bit weights of a CPU without VNNI: logits within cosine 0.99 of fp32. */
    private static void assertSevenBitCloseToFloat32(ModelFiles model, String what) throws BackendException {
        Int8WeightRange reduced = Int8WeightRange.select("amd64", java.util.Optional.of("flags\t: avx2 avx512f\n"));
        VitConfig config = model.config();
        try (Backend fp32 = new OnnxBackendProvider().open(model, FP32);
             Backend int8 = OnnxBackend.open(model, INT8, new OrtCudaProbe(), reduced)) {
            assertTrue(int8.build().quantizedLayers().contains("7-bit (reduce_range)"), int8.build().quantizedLayers());
            assertTrue(int8.build().operators().contains("x86 CPU without VNNI"), int8.build().operators());
            Logits expected = fp32.infer(FixtureModels.pixels(config, 0, 3));
            Logits actual = int8.infer(FixtureModels.pixels(config, 0, 3));
            for (int i = 0; i < 3; i++) {
                double cosine = Logits.cosineSimilarity(expected.row(i), actual.row(i));
                assertTrue(cosine >= 0.99, what + " image " + i + ": cosine " + cosine);
            }
        }
    }

    @Test
    void exportedNetworkBesideTheWeightsIsNotUsedForInt8() throws BackendException {
        ModelFiles both = FixtureModels.withWeights("tiny-vit", Fixtures.tinyVit(), FixtureModels.config(Fixtures.tinyVit()));
        try (Backend backend = new OnnxBackendProvider().open(both, INT8)) {
            assertEquals(Fixtures.tinyVit().resolve("model.safetensors"), backend.weightsFile());
            assertEquals(Precision.INT8, backend.build().precision());
            assertEquals(12, Integer.parseInt(backend.build().quantizedLayers().split(" ")[0]));
        }
    }

    @Test
    void exportedNetworkAloneIsRefusedSayingHowToServeInt8() {
        BackendException e = assertThrows(BackendException.class,
                () -> new OnnxBackendProvider().open(FixtureModels.files("tiny-vit"), INT8));
        assertTrue(e.getMessage().startsWith("--precision int8 quantizes the network vitserve builds from model.safetensors,"
                + " and model tiny-vit has only the exported network " + Fixtures.tinyVit().resolve("onnx/model.onnx")),
                e.getMessage());
        assertTrue(e.getMessage().contains("put the model's model.safetensors in the folder"), e.getMessage());
        assertTrue(e.getMessage().contains("--precision fp32"), e.getMessage());
    }

    @Test
    void aGpuIsRefusedForInt8(@TempDir Path folder) {
        ModelFiles model = FixtureModels.weightsOnly("tiny-vit", folder);
        BackendException e = assertThrows(BackendException.class, () -> new OnnxBackendProvider().open(model,
                new BackendOptions(DeviceRequest.parse("gpu:0"), 1, 1, Precision.INT8)));
        assertTrue(e.getMessage().startsWith("--precision int8 runs on the CPU only"), e.getMessage());
    }

    @Test
    void autoDeviceRunsInt8OnTheCpu(@TempDir Path folder) throws BackendException {
        ModelFiles model = FixtureModels.weightsOnly("tiny-vit", folder);
        try (Backend backend = new OnnxBackendProvider().open(model, new BackendOptions(DeviceRequest.AUTO, 1, 1,
                Precision.INT8))) {
            assertEquals("cpu", backend.device().id());
        }
    }

    /**
     * int8 logits within a cosine similarity of 0.99 of float32 for three images, and the same whether an image
     * runs alone or in a batch.
     */
    private static void assertCloseToFloat32(ModelFiles fp32Model, ModelFiles int8Model, String what)
            throws BackendException {
        VitConfig config = fp32Model.config();
        try (Backend fp32 = new OnnxBackendProvider().open(fp32Model, FP32);
             Backend int8 = new OnnxBackendProvider().open(int8Model, INT8)) {
            assertEquals(Precision.FP32, fp32.build().precision());
            assertEquals(Precision.INT8, int8.build().precision());
            assertTrue(int8.build().operators().contains("; checked at load against float32 on "), int8.build().operators());
            assertEquals(6 * config.numLayers() + " linear layers", int8.build().quantizedLayers().substring(0,
                    int8.build().quantizedLayers().indexOf(" of")));
            Logits expected = fp32.infer(FixtureModels.pixels(config, 0, 3));
            Logits actual = int8.infer(FixtureModels.pixels(config, 0, 3));
            for (int i = 0; i < 3; i++) {
                double cosine = Logits.cosineSimilarity(expected.row(i), actual.row(i));
                assertTrue(cosine >= 0.99, what + " image " + i + ": cosine " + cosine);
                // activations are quantized per tensor, so a batch's scale spans its images: alone, an image may
                // differ a little from its row in the batch, as much as int8 differs from fp32
                assertTrue(Logits.cosineSimilarity(actual.row(i), int8.infer(FixtureModels.pixels(config, i, 1)).row(0)) >= 0.99,
                        what + " image " + i + " alone");
            }
            assertArrayEquals(actual.values(), int8.infer(FixtureModels.pixels(config, 0, 3)).values(),
                    what + ": the same batch gives the same logits");
        }
    }

    /** Every tensor of a ViTForImageClassification of that shape, Gaussian with a layer's usual scale. */
    static Map<String, TestSafetensors.Tensor> randomWeights(VitConfig c, long seed) {
        Random random = new Random(seed);
        Map<String, TestSafetensors.Tensor> tensors = new LinkedHashMap<>();
        int h = c.hiddenSize();
        int p = c.patchSize();
        String e = "vit.embeddings.";
        put(tensors, random, e + "cls_token", 1, new long[] {1, 1, h});
        put(tensors, random, e + "position_embeddings", 0.5, new long[] {1, c.numPatches() + 1, h});
        put(tensors, random, e + "patch_embeddings.projection.weight", 1 / Math.sqrt(c.numChannels() * p * p),
                new long[] {h, c.numChannels(), p, p});
        put(tensors, random, e + "patch_embeddings.projection.bias", 0.1, new long[] {h});
        for (int l = 0; l < c.numLayers(); l++) {
            String layer = "vit.encoder.layer." + l + ".";
            layerNorm(tensors, random, layer + "layernorm_before", h);
            for (String qkv : new String[] {"query", "key", "value"}) {
                linear(tensors, random, layer + "attention.attention." + qkv, h, h, c.qkvBias());
            }
            linear(tensors, random, layer + "attention.output.dense", h, h, true);
            layerNorm(tensors, random, layer + "layernorm_after", h);
            linear(tensors, random, layer + "intermediate.dense", c.intermediateSize(), h, true);
            linear(tensors, random, layer + "output.dense", h, c.intermediateSize(), true);
        }
        layerNorm(tensors, random, "vit.layernorm", h);
        linear(tensors, random, "classifier", c.numLabels(), h, true);
        return tensors;
    }

    private static void linear(Map<String, TestSafetensors.Tensor> tensors, Random random, String name, int outputs,
                               int inputs, boolean bias) {
        put(tensors, random, name + ".weight", 1 / Math.sqrt(inputs), new long[] {outputs, inputs});
        if (bias) {
            put(tensors, random, name + ".bias", 0.1, new long[] {outputs});
        }
    }

    private static void layerNorm(Map<String, TestSafetensors.Tensor> tensors, Random random, String name, int size) {
        float[] weight = new float[size];
        for (int i = 0; i < size; i++) {
            weight[i] = (float) (1 + 0.1 * random.nextGaussian());
        }
        tensors.put(name + ".weight", new TestSafetensors.Tensor(new long[] {size}, weight));
        put(tensors, random, name + ".bias", 0.1, new long[] {size});
    }

    private static void put(Map<String, TestSafetensors.Tensor> tensors, Random random, String name, double scale,
                            long[] shape) {
        long count = 1;
        for (long dim : shape) {
            count *= dim;
        }
        float[] values = new float[(int) count];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (scale * random.nextGaussian());
        }
        tensors.put(name, new TestSafetensors.Tensor(shape, values));
    }
}
