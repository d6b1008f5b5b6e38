package dev.vitserve.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.api.VitConfig;
import dev.vitserve.core.inference.ScoreFunction;
import dev.vitserve.testkit.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelLoaderTest {

    @TempDir
    Path dir;

    @Test
    void readsTheTinyFixture() throws Exception {
        LoadedModel model = ModelLoader.load(Fixtures.tinyVit(), "tiny");
        assertEquals(10, model.labels().size());
        assertEquals("tabby cat", model.labels().get(0));
        assertEquals("lighthouse", model.labels().get(9));
        VitConfig shape = model.files().config();
        assertEquals(new VitConfig(224, 224, 3, 16, 32, 2, 4, 64, 1e-12, true, 10), shape);
        assertEquals(ScoreFunction.SOFTMAX, model.defaultFunction());
        assertEquals("tiny", model.files().name());
    }

    @Test
    void missingOrMalformedFilesAreNamed() throws Exception {
        assertMessage("does not exist", dir.resolve("nowhere"));
        assertMessage("config.json is missing", dir);
        write("config.json", "{ not json");
        assertMessage("config.json is not valid JSON", dir);
        write("config.json", tinyConfig());
        assertMessage("preprocessor_config.json is missing", dir);
    }

    @Test
    void otherArchitecturesAreRefusedWithWhatIsSupported() throws Exception {
        copyPreprocessor();
        write("config.json", tinyConfig().replace("\"model_type\": \"vit\"", "\"model_type\": \"deit\""));
        assertMessage("model_type 'deit' disagrees with architectures [ViTForImageClassification]", dir);
        write("config.json", tinyConfig().replace("ViTForImageClassification", "ViTModel"));
        assertMessage("architectures [ViTModel] (model_type 'vit') is not supported; vitserve builds these image"
                + " classifiers from model.safetensors: ViTForImageClassification, DeiTForImageClassification,", dir);
        write("config.json", tinyConfig().replace("\"ViTForImageClassification\"", "").replace("\"model_type\": \"vit\"",
                "\"model_type\": \"convnext\""));
        assertMessage("model_type 'convnext' is not supported", dir);
    }

    @Test
    void anArchitectureVitserveDoesNotBuildIsServedFromItsExportWithOnlyItsLabels() throws Exception {
        LoadedModel model = ModelLoader.load(Fixtures.model("convnext-exported"), "convnext");
        VitConfig shape = model.files().config();
        assertTrue(shape.architecture().exported());
        assertEquals("ConvNextForImageClassification", shape.architecture().className());
        assertEquals("exported ONNX: ConvNextForImageClassification", shape.architecture().describe());
        assertEquals(48, shape.imageHeight(), "the processor's size");
        assertEquals(40, shape.imageWidth());
        assertEquals(7, shape.numLabels());
        assertEquals("tiger", model.labels().get(1));
        assertTrue(model.files().weights().isEmpty());

        // the same folder without its export: refused, saying what is supported and how to export it
        Files.copy(Fixtures.model("convnext-exported").resolve("config.json"), dir.resolve("config.json"));
        copyPreprocessor();
        assertMessage("architectures [ConvNextForImageClassification] (model_type 'convnext') is not supported;"
                + " vitserve builds these image classifiers from model.safetensors: ViTForImageClassification,", dir);
        assertMessage("Any other image classifier is served from its ONNX export with --backend onnx, and " + dir
                + " has no onnx/model.onnx or model.onnx: export it with Optimum (optimum-cli export onnx --model"
                + " <hub id or folder> --task image-classification <folder>)", dir);

        // model.onnx beside config.json, where optimum-cli writes it; the processor must fix the size
        Files.copy(Fixtures.model("convnext-exported").resolve("onnx/model.onnx"), dir.resolve("model.onnx"));
        assertTrue(ModelLoader.load(dir, "flat").files().config().architecture().exported());
        write("preprocessor_config.json", Files.readString(dir.resolve("preprocessor_config.json"))
                .replace("\"do_resize\": true", "\"do_resize\": false"));
        assertMessage("does not resize (do_resize is false), but the exported ConvNextForImageClassification takes its"
                + " image size from the image processor's size", dir);
    }

    @Test
    void labelsMustBeCompleteAndProblemTypeChoosesTheFunction() throws Exception {
        copyPreprocessor();
        write("config.json", tinyConfig().replace("\"9\": \"lighthouse\"", "\"12\": \"lighthouse\""));
        assertMessage("id2label must number its 10 classes", dir);
        write("config.json", tinyConfig().replace("\"model_type\"", "\"problem_type\": \"multi_label_classification\", \"model_type\""));
        assertEquals(ScoreFunction.SIGMOID, ModelLoader.load(dir, "m").defaultFunction());
    }

    @Test
    void preprocessorSizeMustMatchTheModel() throws Exception {
        copyPreprocessor();
        write("config.json", tinyConfig().replace("\"image_size\": 224", "\"image_size\": 384"));
        assertMessage("resizes to 224x224 but", dir);
    }

    @Test
    void dinov2TakesTheProcessorsSizeAndOtherArchitecturesTheirOwn() throws Exception {
        Path dinov2 = Fixtures.model("dinov2-shape");
        Files.copy(dinov2.resolve("config.json"), dir.resolve("config.json"));
        Files.copy(dinov2.resolve("preprocessor_config.json"), dir.resolve("preprocessor_config.json"));
        VitConfig shape = ModelLoader.load(dir, "m").files().config();
        assertEquals("Dinov2ForImageClassification", shape.architecture().className());
        // trained at 70 px (config.json image_size), served at the processor's 56x63
        assertEquals(56, shape.imageHeight());
        assertEquals(63, shape.imageWidth());
        assertEquals(64, shape.embeddingSize());
        assertEquals(new dev.vitserve.api.arch.Dinov2(0, false, false, 70, 70), shape.architecture());

        Path teacher = Fixtures.model("deit-teacher-shape");
        Files.copy(teacher.resolve("config.json"), dir.resolve("config.json"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(teacher.resolve("preprocessor_config.json"), dir.resolve("preprocessor_config.json"),
                StandardCopyOption.REPLACE_EXISTING);
        VitConfig deit = ModelLoader.load(dir, "m").files().config();
        assertEquals(new dev.vitserve.api.arch.Deit(true), deit.architecture());
        assertEquals(80, deit.embeddingSize());
        write("preprocessor_config.json", Files.readString(teacher.resolve("preprocessor_config.json"))
                .replace("\"height\": 48", "\"height\": 56"));
        assertMessage("resizes to 48x56 but", dir);
    }

    @Test
    void aProcessorWhoseTensorFollowsEachImageIsRefused() throws Exception {
        write("config.json", tinyConfig());
        write("preprocessor_config.json", "{\"image_processor_type\": \"CLIPImageProcessor\", \"do_center_crop\": false}");
        assertMessage("each image's aspect ratio", dir);
        write("preprocessor_config.json", "{\"image_processor_type\": \"DeiTImageProcessor\", \"crop_size\": 200}");
        assertMessage("resizes to 200x200 but", dir);
        write("preprocessor_config.json", "{\"image_processor_type\": \"DeiTImageProcessor\"}");
        assertEquals(224, ModelLoader.load(dir, "m").preprocessing().height());
    }

    private String tinyConfig() throws IOException {
        return Files.readString(Fixtures.tinyVit().resolve("config.json"));
    }

    private void copyPreprocessor() throws IOException {
        Files.copy(Fixtures.tinyVit().resolve("preprocessor_config.json"), dir.resolve("preprocessor_config.json"));
    }

    private void write(String name, String text) throws IOException {
        Files.writeString(dir.resolve(name), text);
    }

    private static void assertMessage(String expected, Path directory) {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelLoader.load(directory, "m"));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
