package dev.vitserve.backend.onnx;

import static dev.vitserve.backend.onnx.OnnxNodes.in;
import static dev.vitserve.backend.onnx.OnnxNodes.integer;
import static dev.vitserve.backend.onnx.OnnxNodes.ints;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl;
import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.DeviceRequest;
import dev.vitserve.api.Logits;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.Precision;
import dev.vitserve.api.VitConfig;
import dev.vitserve.api.arch.Exported;
import dev.vitserve.testkit.FixtureModels;
import dev.vitserve.testkit.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Networks of architectures vitserve does not build, opened from their ONNX export: the graph's signature held to
 * Optimum's (pixel_values in, logits [batch, labels] out, fixed dims the processor's), refused at load with what was
 * found and what is expected; the embedding is the classifier's input when the classifier is a Gemm on an initializer.
 */
class ExportedClassifierTest {

    private static final BackendOptions CPU = new BackendOptions(DeviceRequest.CPU, 1, 8);
    private static final Exported CONVNEXT = new Exported("ConvNextForImageClassification", "convnext");

    @TempDir
    Path dir;

    @Test
    void convNextGivesLogitsAndItsClassifiersInputInBatchesAsAlone() throws BackendException {
        VitConfig config = VitConfig.exported(48, 40, 3, 7, CONVNEXT);
        try (Backend backend = new OnnxBackendProvider().open(new ModelFiles("convnext",
                Fixtures.model("convnext-exported"), config), CPU)) {
            assertTrue(backend.embeds());
            assertEquals(48, backend.embeddingSize(), "the width of the last stage, the classifier's input");
            Logits batch = backend.infer(FixtureModels.pixels(config, 0, 3));
            assertEquals(7, batch.numLabels());
            for (int i = 0; i < 3; i++) {
                Logits alone = backend.infer(FixtureModels.pixels(config, i, 1));
                assertArrayEquals(alone.row(0), batch.row(i), 1e-5f, "image " + i);
                assertArrayEquals(alone.embedding(0), batch.embedding(i), 1e-5f, "image " + i);
            }
        }
    }

    @Test
    void aFixedImageSizeOtherThanTheProcessorsIsRefused() {
        VitConfig config = VitConfig.exported(48, 48, 3, 6, new Exported("ResNetForImageClassification", "resnet"));
        String message = refused(Fixtures.model("resnet-exported"), config);
        assertTrue(message.contains("takes pixel_values [?, 3, 56, 56], but the model feeds it pixel_values"
                + " [batch_size, 3, 48, 48] (num_channels of config.json; height and width the size"
                + " preprocessor_config.json resizes to)"), message);
    }

    @Test
    void aGemmHeadGivesItsInputAsTheEmbeddingAndOtherHeadsNone() throws Exception {
        // channel means -> Gemm(W [2, 3], transB) -> logits: the embedding is the 3 channel means
        Path gemm = graph("gemm", nodes -> {
            String means = nodes.op("ReduceMean", in("pixel_values"), ints("axes", 2, 3), integer("keepdims", 0));
            String weight = nodes.floats(1, 2, 3, -1, 0, 1);
            String shape = nodes.int64s(2, 3);
            String matrix = nodes.op("Reshape", in(weight, shape));
            nodes.opTo("logits", "Gemm", in(means, matrix, nodes.floats(0.5f, -0.5f)), integer("transB", 1));
        }, dims("batch", 3L, "height", "width"), dims("batch", 2L));
        VitConfig config = VitConfig.exported(4, 4, 3, 2, CONVNEXT);
        try (Backend backend = new OnnxBackendProvider().open(new ModelFiles("gemm", gemm, config), CPU)) {
            // the weight is a Reshape's output, not an initializer: its width is unknown, so no embeddings
            assertFalse(backend.embeds());
            assertEquals(0, backend.embeddingSize());
        }
        Path initialized = graph("initialized", nodes -> {
            String means = nodes.op("ReduceMean", in("pixel_values"), ints("axes", 2, 3), integer("keepdims", 0));
            nodes.initializer(OnnxMl.TensorProto.newBuilder().setName("W").setDataType(1).addDims(2).addDims(3)
                    .addFloatData(1).addFloatData(2).addFloatData(3).addFloatData(-1).addFloatData(0).addFloatData(1)
                    .build());
            nodes.opTo("logits", "Gemm", in(means, "W", nodes.floats(0.5f, -0.5f)), integer("transB", 1));
        }, dims("batch", 3L, "height", "width"), dims("batch", 2L));
        try (Backend backend = new OnnxBackendProvider().open(new ModelFiles("gemm", initialized, config), CPU)) {
            assertTrue(backend.embeds());
            assertEquals(3, backend.embeddingSize());
            Logits logits = backend.infer(FixtureModels.pixels(config, 0, 2));
            for (int n = 0; n < 2; n++) {
                float[] e = logits.embedding(n);
                assertArrayEquals(new float[] {e[0] + 2 * e[1] + 3 * e[2] + 0.5f, -e[0] + e[2] - 0.5f}, logits.row(n),
                        1e-5f);
            }
        }
    }

    @Test
    void logitsOfAnotherRankOrAnInputOfAnotherRankAreRefused() throws Exception {
        VitConfig config = VitConfig.exported(4, 4, 3, 3, CONVNEXT);
        Path rank3 = graph("rank3", nodes -> {
            String means = nodes.op("ReduceMean", in("pixel_values"), ints("axes", 2, 3), integer("keepdims", 0));
            nodes.opTo("logits", "Reshape", in(means, nodes.int64s(0, 1, 3)));
        }, dims("batch", 3L, 4L, 4L), dims("batch", 1L, 3L));
        String message = refused(rank3, config);
        assertTrue(message.contains("gives logits [?, 1, 3], but config.json has 3 labels in id2label, so vitserve"
                + " expects logits [batch_size, 3]"), message);
        Path flat = graph("flat", nodes -> nodes.opTo("logits", "ReduceMean", in("pixel_values"), ints("axes", 2),
                integer("keepdims", 0)), dims("batch", 3L, 16L), dims("batch", 3L));
        message = refused(flat, config);
        assertTrue(message.contains("takes pixel_values [?, 3, 16], but the model feeds it pixel_values"
                + " [batch_size, 3, 4, 4]"), message);
    }

    @Test
    void int8IsRefusedSayingToServeFp32() {
        VitConfig config = VitConfig.exported(48, 40, 3, 7, CONVNEXT);
        BackendException e = assertThrows(BackendException.class, () -> new OnnxBackendProvider().open(
                new ModelFiles("convnext", Fixtures.model("convnext-exported"), config),
                new BackendOptions(DeviceRequest.CPU, 1, 8, Precision.INT8)));
        assertTrue(e.getMessage().contains("is ConvNextForImageClassification, served from its exported network")
                && e.getMessage().endsWith("vitserve does not re-quantize exported ONNX files; serve it with --precision"
                + " fp32"), e.getMessage());
    }

    private String refused(Path folder, VitConfig config) {
        BackendException e = assertThrows(BackendException.class,
                () -> new OnnxBackendProvider().open(new ModelFiles("bad", folder, config), CPU).close());
        return e.getMessage();
    }

    private static Object[] dims(Object... dims) {
        return dims;
    }

    /** A folder with onnx/model.onnx: pixel_values of the given dims in, what {@code body} writes to logits out. */
    private Path graph(String name, Consumer<OnnxNodes> body, Object[] inputDims, Object[] outputDims)
            throws Exception {
        OnnxNodes nodes = new OnnxNodes(name);
        nodes.floatInput("pixel_values", inputDims);
        body.accept(nodes);
        nodes.floatOutput("logits", outputDims);
        Path folder = Files.createDirectories(dir.resolve(name).resolve("onnx")).getParent();
        Files.write(folder.resolve("onnx/model.onnx"), nodes.model("test", false).toByteArray());
        return folder;
    }
}
