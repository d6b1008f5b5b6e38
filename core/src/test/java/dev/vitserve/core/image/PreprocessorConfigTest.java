package dev.vitserve.core.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading preprocessor_config.json: ViTImageProcessor's defaults, the accepted forms, clear errors. */
class PreprocessorConfigTest {

    @TempDir
    Path temp;

    private PreprocessorConfig read(String json) throws IOException {
        Path file = temp.resolve("preprocessor_config.json");
        Files.writeString(file, json);
        return PreprocessorConfig.read(file);
    }

    private IOException failure(String json) {
        return assertThrows(IOException.class, () -> read(json));
    }

    @Test
    void defaultsAreViTImageProcessors() {
        PreprocessorConfig d = PreprocessorConfig.defaults();
        assertTrue(d.doResize());
        assertEquals(224, d.height());
        assertEquals(224, d.width());
        assertEquals(2, d.resample());
        assertTrue(d.doRescale());
        assertEquals(1 / 255.0, d.rescaleFactor());
        assertTrue(d.doNormalize());
        assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f}, d.imageMean());
        assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f}, d.imageStd());
    }

    @Test
    void missingKeysTakeTheDefaults() throws IOException {
        assertEquals(PreprocessorConfig.defaults(), read("{}"));
        PreprocessorConfig some = read("{\"image_mean\": [0.485, 0.456, 0.406], \"do_rescale\": false}");
        assertArrayEquals(new float[] {0.485f, 0.456f, 0.406f}, some.imageMean());
        assertFalse(some.doRescale());
        assertEquals(224, some.height());
        assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f}, some.imageStd());
    }

    @Test
    void legacyIntegerSizeIsSquare() throws IOException {
        PreprocessorConfig config = read("{\"size\": 384}");
        assertEquals(384, config.height());
        assertEquals(384, config.width());
    }

    @Test
    void heightAndWidthMayDiffer() throws IOException {
        PreprocessorConfig config = read("{\"size\": {\"height\": 160, \"width\": 200}}");
        assertEquals(160, config.height());
        assertEquals(200, config.width());
    }

    @Test
    void aSingleMeanOrStdNumberServesAllChannels() throws IOException {
        PreprocessorConfig config = read("{\"image_mean\": 0.25, \"image_std\": 2}");
        assertArrayEquals(new float[] {0.25f, 0.25f, 0.25f}, config.imageMean());
        assertArrayEquals(new float[] {2f, 2f, 2f}, config.imageStd());
    }

    @Test
    void shortestEdgeIsRefusedNamingTheFile() {
        IOException e = failure("{\"size\": {\"shortest_edge\": 224}}");
        assertTrue(e.getMessage().contains("preprocessor_config.json"), e.getMessage());
        assertTrue(e.getMessage().contains("shortest_edge"), e.getMessage());
        assertTrue(e.getMessage().contains("\"size\""), e.getMessage());
    }

    @Test
    void malformedJsonNamesTheFile() {
        IOException e = failure("{\"size\": 224,");
        assertTrue(e.getMessage().contains("preprocessor_config.json"), e.getMessage());
        assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
    }

    @Test
    void missingFileIsAClearError() {
        IOException e = assertThrows(IOException.class, () -> PreprocessorConfig.read(temp.resolve("nope.json")));
        assertTrue(e.getMessage().contains("nope.json"), e.getMessage());
    }

    @Test
    void unsupportedResampleIsNamed() {
        IOException e = failure("{\"resample\": 7}");
        assertTrue(e.getMessage().contains("resample 7") && e.getMessage().contains("BICUBIC"), e.getMessage());
    }

    @Test
    void wrongTypesNameTheKey() {
        assertTrue(failure("{\"do_resize\": \"yes\"}").getMessage().contains("\"do_resize\""));
        assertTrue(failure("{\"image_std\": [1, 2]}").getMessage().contains("\"image_std\""));
        assertTrue(failure("{\"size\": {\"height\": 0, \"width\": 4}}").getMessage().contains("size.height"));
        assertTrue(failure("{\"rescale_factor\": \"1/255\"}").getMessage().contains("\"rescale_factor\""));
        assertTrue(failure("[1, 2]").getMessage().contains("JSON object"));
    }

    @Test
    void zeroStdIsRefused() {
        assertTrue(failure("{\"image_std\": [0.5, 0, 0.5]}").getMessage().contains("image_std"));
    }

    @Test
    void siglipImageProcessorResizesBicubicToHeightAndWidthWithHalfMeanAndStd() throws IOException {
        PreprocessorConfig d = read("{\"image_processor_type\": \"SiglipImageProcessor\"}");
        assertEquals(PreprocessorConfig.Processor.SIGLIP, d.processor());
        assertEquals(224, d.height());
        assertEquals(224, d.width());
        assertEquals(3, d.resample());
        assertFalse(d.doCenterCrop());
        assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f}, d.imageMean());
        assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f}, d.imageStd());
        assertEquals(30, read("{\"image_processor_type\": \"SiglipImageProcessorFast\","
                + " \"size\": {\"height\": 30, \"width\": 30}}").width());
        assertTrue(failure("{\"image_processor_type\": \"SiglipImageProcessor\", \"size\": 384}").getMessage()
                .contains("height"));
        assertTrue(failure("{\"image_processor_type\": \"SiglipImageProcessor\", \"do_center_crop\": true}")
                .getMessage().contains("do_center_crop"));
    }

    @Test
    void anUnknownProcessorClassIsRefusedNamingIt() {
        IOException e = failure("{\"image_processor_type\": \"DonutImageProcessor\"}");
        assertTrue(e.getMessage().contains("DonutImageProcessor") && e.getMessage().contains("ConvNextImageProcessor"),
                e.getMessage());
        IOException legacy = failure("{\"feature_extractor_type\": \"DetrFeatureExtractor\"}");
        assertTrue(legacy.getMessage().contains("DetrFeatureExtractor"), legacy.getMessage());
    }

    @Test
    void aKeyTheClassDoesNotTakeIsRefusedNamingIt() {
        IOException e = failure("{\"image_processor_type\": \"ViTImageProcessor\", \"crop_size\": 200}");
        assertTrue(e.getMessage().contains("\"crop_size\"") && e.getMessage().contains("ViTImageProcessor"), e.getMessage());
        IOException square = failure("{\"image_processor_type\": \"CLIPImageProcessor\", \"use_square_size\": true}");
        assertTrue(square.getMessage().contains("use_square_size"), square.getMessage());
        IOException norm = failure("{\"image_processor_type\": \"MobileViTImageProcessor\", \"do_normalize\": true}");
        assertTrue(norm.getMessage().contains("do_normalize"), norm.getMessage());
    }

    @Test
    void sizeFormsAClassDoesNotReadAreRefused() {
        assertTrue(failure("{\"image_processor_type\": \"ConvNextImageProcessor\", \"size\": {\"height\": 224, \"width\": 224}}")
                .getMessage().contains("shortest_edge"));
        assertTrue(failure("{\"image_processor_type\": \"DeiTImageProcessor\", \"crop_size\": {\"shortest_edge\": 224}}")
                .getMessage().contains("crop_size"));
        assertTrue(failure("{\"image_processor_type\": \"CLIPImageProcessor\", \"size\": {\"longest_edge\": 224}}")
                .getMessage().contains("longest_edge"));
        assertTrue(failure("{\"image_processor_type\": \"ViTImageProcessor\", \"resample\": null}")
                .getMessage().contains("resample"));
    }

    @Test
    void eachClassHasItsDefaultsAndSteps() throws IOException {
        PreprocessorConfig deit = read("{\"image_processor_type\": \"DeiTImageProcessor\"}");
        assertEquals("[resize to 256x256 (BICUBIC), center crop 224x224, rescale by " + (1 / 255.0)
                + ", normalize with mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225]]", deit.steps().toString());
        PreprocessorConfig convnext = read("{\"image_processor_type\": \"ConvNextImageProcessor\", \"size\": 224}");
        assertEquals("resize to shortest edge 256 (BICUBIC)", convnext.steps().get(0).toString());
        assertEquals(224, convnext.height());
        PreprocessorConfig mobilevit = read("{\"feature_extractor_type\": \"MobileViTFeatureExtractor\", \"size\": 288}");
        assertEquals("[resize to shortest edge 288 (BILINEAR), rescale by " + (1 / 255.0) + ", center crop 256x256, RGB to BGR]",
                mobilevit.steps().toString());
        PreprocessorConfig fast = read("{\"image_processor_type\": \"BitImageProcessorFast\"}");
        assertEquals(PreprocessorConfig.Processor.BIT, fast.processor());
        PreprocessorConfig clip = read("{\"image_processor_type\": \"CLIPImageProcessor\", \"do_center_crop\": false}");
        assertTrue(clip.fixedSize().isEmpty());
        assertTrue(clip.variableSizeReason().contains("aspect ratio"), clip.variableSizeReason());
    }
}
