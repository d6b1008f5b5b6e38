package dev.vitserve.backend.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.api.VitConfig;
import dev.vitserve.testkit.FixtureModels;
import dev.vitserve.testkit.Fixtures;
import dev.vitserve.testkit.TestSafetensors;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The built ViT on its own: its GELU, autograd, memory, and the errors for weights that do not fit config.json. */
class VitNetworkTest {

    private static final String MODEL = "vit-shape-a";
    private static final VitConfig CONFIG = FixtureModels.config(Fixtures.model(MODEL));
    private static final String LAYER_1_MLP_IN = "vit.encoder.layer.1.intermediate.dense.weight";

    @BeforeAll
    static void start() throws BackendException {
        PyTorchRuntime.start(DjlBackendTest.CPU.threads());
    }

    @Test
    void geluIsTheExactErfForm() {
        try (NDManager manager = NDManager.newBaseManager(Device.cpu(), PyTorchRuntime.ENGINE_NAME)) {
            float[] x = {-3f, -2.5f, -1.5f, -1f, 1f, 1.5f, 2.5f, 3f};
            float[] gelu = Activation.gelu(manager.create(x)).toFloatArray();
            for (int i = 0; i < x.length; i++) {
                double exact = 0.5 * x[i] * (1 + erf(x[i] / Math.sqrt(2)));
                double tanh = 0.5 * x[i] * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x[i] + 0.044715 * Math.pow(x[i], 3))));
                assertEquals(exact, gelu[i], 1e-6, "gelu(" + x[i] + ")");
                // the tanh approximation is told apart: it is at least 1e-4 away at these points
                assertTrue(Math.abs(tanh - exact) > 1e-4, "gelu(" + x[i] + ") does not tell the two forms apart");
            }
        }
    }

    @Test
    void recordsNoAutogradGraphAndRestoresGradMode() throws BackendException {
        try (VitNetwork network = build(CONFIG, weights())) {
            JniUtils.setGradMode(true);
            try (NDManager call = network.manager().newSubManager()) {
                NDArray pixels = pixels(call, FixtureModels.pixels(CONFIG, 0, 2));
                // even an input that asks for gradients gets none recorded through the network
                pixels.setRequiresGradient(true);
                NDArray logits = network.run(pixels).get(0);
                assertTrue(JniUtils.requiresGrad((PtNDArray) pixels));
                // with a graph recorded, the logits would require a gradient too (grad_fn set)
                assertFalse(JniUtils.requiresGrad((PtNDArray) logits), "logits require a gradient");
                assertTrue(JniUtils.isGradMode(), "the thread's grad mode is restored");
            }
            for (NDArray weight : network.manager().getManagedArrays()) {
                assertFalse(weight.hasGradient(), weight.getName());
            }
        }
    }

    @Test
    void callsLeaveNoArraysBehind() throws BackendException {
        try (VitNetwork network = build(CONFIG, weights())) {
            int weights = network.manager().getManagedArrays().size();
            PixelBatch batch = FixtureModels.pixels(CONFIG, 0, 2);
            for (int call = 0; call < 20; call++) {
                try (NDManager manager = network.manager().newSubManager()) {
                    NDArray input = pixels(manager, batch);
                    network.run(input).get(0);
                    // the input, the logits and the states between stages; every intermediate is closed on the way
                    assertTrue(manager.getManagedArrays().size() <= 10,
                            manager.getManagedArrays().size() + " arrays left in the call's manager");
                }
                assertEquals(weights, network.manager().getManagedArrays().size(), "arrays in the network's manager");
            }
        }
    }

    @Test
    void wrongShapeNamesTheTensorAndBothShapes(@TempDir Path folder) {
        Map<String, TestSafetensors.Tensor> tensors = weights().tensors();
        float[] values = tensors.get(LAYER_1_MLP_IN).values();
        tensors.put(LAYER_1_MLP_IN, new TestSafetensors.Tensor(new long[] {48, 96}, values));
        BackendException e = assertThrows(BackendException.class, () -> build(CONFIG, rewritten(folder, tensors)));
        assertTrue(e.getMessage().startsWith("tensor '" + LAYER_1_MLP_IN + "' in " + folder.resolve("model.safetensors")
                + " has shape [48, 96], but config.json (hidden_size 48, intermediate_size 96,"), e.getMessage());
        assertTrue(e.getMessage().endsWith(") needs [96, 48]"), e.getMessage());
    }

    @Test
    void missingTensorIsNamedWithWhatVitserveBuilds(@TempDir Path folder) {
        Map<String, TestSafetensors.Tensor> tensors = weights().tensors();
        tensors.remove("classifier.weight");
        BackendException e = assertThrows(BackendException.class, () -> build(CONFIG, rewritten(folder, tensors)));
        assertTrue(e.getMessage().startsWith(folder.resolve("model.safetensors") + " has no tensor 'classifier.weight':"
                + " vitserve builds Hugging Face's ViTForImageClassification"), e.getMessage());
    }

    @Test
    void qkvBiasInConfigNeedsTheBiasTensors() {
        VitConfig withBias = new VitConfig(64, 64, 3, 8, 48, 3, 6, 96, 1e-6, true, 7);
        BackendException e = assertThrows(BackendException.class, () -> build(withBias, weights()));
        assertTrue(e.getMessage().contains("has no tensor 'vit.encoder.layer.0.attention.attention.query.bias'"),
                e.getMessage());
    }

    @Test
    void labelCountOtherThanConfigsIsReported() {
        VitConfig nineLabels = new VitConfig(64, 64, 3, 8, 48, 3, 6, 96, 1e-6, false, 9);
        BackendException e = assertThrows(BackendException.class, () -> build(nineLabels, weights()));
        assertTrue(e.getMessage().startsWith("tensor 'classifier.weight' in "), e.getMessage());
        assertTrue(e.getMessage().endsWith("9 labels) needs [9, 48]"), e.getMessage());
    }

    @Test
    void otherActivationsAreRefusedNamingGelu(@TempDir Path folder) {
        VitConfig relu = new VitConfig(64, 64, 3, 8, 48, 3, 6, 96, 1e-6, false, 7, "relu");
        ModelFiles files = FixtureModels.withWeights(MODEL, folder, relu, Fixtures.model(MODEL).resolve("model.safetensors"));
        BackendException e = assertThrows(BackendException.class,
                () -> new DjlBackendProvider().open(files, DjlBackendTest.CPU));
        assertEquals("config.json has hidden_act 'relu', but the ViTForImageClassification the DJL backend builds from"
                + " model.safetensors supports only 'gelu' (exact erf GELU, as Hugging Face's checkpoints use)",
                e.getMessage());
    }

    @Test
    void folderWithNeitherFileIsReported(@TempDir Path empty) {
        ModelFiles files = new ModelFiles(MODEL, empty, CONFIG);
        BackendException e = assertThrows(BackendException.class,
                () -> new DjlBackendProvider().open(files, DjlBackendTest.CPU));
        assertTrue(e.getMessage().startsWith("no model.pt or model.safetensors in " + empty.toAbsolutePath()),
                e.getMessage());
    }

    @Test
    void safetensorsFileWithoutItsTensorsIsReported(@TempDir Path folder) {
        TestSafetensors.write(folder.resolve("model.safetensors"), weights().tensors());
        BackendException e = assertThrows(BackendException.class,
                () -> new DjlBackendProvider().open(new ModelFiles(MODEL, folder, CONFIG), DjlBackendTest.CPU));
        assertTrue(e.getMessage().contains("model.safetensors is in " + folder.toAbsolutePath()
                + " but its tensors were not handed to the DJL backend"), e.getMessage());
    }

    @Test
    void rewrittenWeightsStillGiveTheSameLogits(@TempDir Path folder) throws BackendException {
        // the test writer itself is sound: the untouched tensors written out again give the fixture's logits
        TestSafetensors copy = rewritten(folder, weights().tensors());
        try (VitNetwork original = build(CONFIG, weights()); VitNetwork rewritten = build(CONFIG, copy);
             NDManager manager = NDManager.newBaseManager(Device.cpu(), PyTorchRuntime.ENGINE_NAME)) {
            NDArray input = pixels(manager, FixtureModels.pixels(CONFIG, 0, 1));
            assertArrayEquals(original.run(input).get(0).toFloatArray(), rewritten.run(input).get(0).toFloatArray());
        }
    }

    private static TestSafetensors weights() {
        return TestSafetensors.open(Fixtures.model(MODEL).resolve("model.safetensors"));
    }

    private static TestSafetensors rewritten(Path folder, Map<String, TestSafetensors.Tensor> tensors) {
        Path file = folder.resolve("model.safetensors");
        TestSafetensors.write(file, tensors);
        return TestSafetensors.open(file);
    }

    private static VitNetwork build(VitConfig config, TestSafetensors weights) throws BackendException {
        return VitNetwork.build(config, weights, Device.cpu(), ai.djl.ndarray.types.DataType.FLOAT32);
    }

    private static NDArray pixels(NDManager manager, PixelBatch batch) {
        return manager.create(batch.pixels().duplicate(), new Shape(batch.shape()), DataType.FLOAT32);
    }

    /** Abramowitz and Stegun 7.1.26 is too coarse here; this series and continued fraction are good to 1e-12. */
    private static double erf(double x) {
        double t = Math.abs(x);
        double result;
        if (t < 2.5) {
            double term = t;
            double sum = t;
            for (int n = 1; n < 60; n++) {
                term *= -t * t / n;
                sum += term / (2 * n + 1);
            }
            result = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            double fraction = 0;
            for (int n = 60; n >= 1; n--) {
                fraction = n / 2.0 / (t + fraction);
            }
            result = 1 - Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + fraction);
        }
        return Math.copySign(result, x);
    }
}
