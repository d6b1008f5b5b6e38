package dev.vitserve.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.api.ClipConfig;
import dev.vitserve.testkit.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A CLIPModel folder is read with its towers, tokenizer and logit_scale; what vitserve cannot serve is refused. */
class ClipModelLoaderTest {

    private static final List<String> FILES = List.of("config.json", "preprocessor_config.json", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json", "model.safetensors");

    private static Path copy(Path dir) throws IOException {
        for (String file : FILES) {
            Files.copy(Fixtures.tinyClip().resolve(file), dir.resolve(file));
        }
        return dir;
    }

    @Test
    void readsTheTowersTokenizerAndLogitScale() throws Exception {
        LoadedModel model = ModelLoader.load(Fixtures.tinyClip(), "tiny-clip");
        try {
            assertEquals(Task.ZERO_SHOT_IMAGE_CLASSIFICATION, model.task());
            assertTrue(model.labels().isEmpty());
            ClipConfig clip = model.files().clip().orElseThrow();
            assertEquals(12, clip.projectionDim());
            assertEquals(12, model.embeddingDimensions());
            assertEquals(30, clip.vision().imageHeight());
            assertEquals(6, clip.vision().patchSize());
            assertEquals("quick_gelu", clip.vision().hiddenAct());
            assertEquals("gelu", clip.text().hiddenAct());
            assertEquals(634, clip.text().vocabSize());
            assertEquals(16, clip.text().maxPositions());
            assertTrue(clip.text().poolsAtLargestId(), "eos_token_id 2 is the legacy rule");
            assertEquals(2.3, model.text().orElseThrow().logitScale(), 1e-6);
            assertEquals(16, model.text().get().tokenizer().maxLength());
            assertEquals(30, model.preprocessing().height());
        } finally {
            model.closeText();
        }
        LoadedModel vit = ModelLoader.load(Fixtures.tinyVit(), "tiny-vit");
        assertEquals(Task.IMAGE_CLASSIFICATION, vit.task());
        assertEquals(vit.files().config().hiddenSize(), vit.embeddingDimensions());
    }

    @Test
    void clipsOwnShortestEdgeCropAndBicubicAreServedAndASizeTheTowerCannotTakeIsRefused(@TempDir Path dir)
            throws Exception {
        copy(dir);
        Path pre = dir.resolve("preprocessor_config.json");
        String original = Files.readString(pre);
        // CLIPImageProcessor's defaults as the Hub's checkpoints ship them: shortest edge, BICUBIC, center crop
        Files.writeString(pre, original.replaceFirst("\"size\": \\{[^}]*\\}", "\"size\": {\"shortest_edge\": 30}")
                .replace("\"do_center_crop\": false", "\"do_center_crop\": true")
                .replaceFirst("\"crop_size\": \\{[^}]*\\}", "\"crop_size\": {\"height\": 30, \"width\": 30}")
                .replaceFirst("\"resample\": \\d", "\"resample\": 3"));
        LoadedModel served = ModelLoader.load(dir, "c");
        try {
            assertTrue(served.preprocessing().doCenterCrop());
            assertEquals(30, served.preprocessing().height());
        } finally {
            served.closeText();
        }
        // without the crop the tensor would follow each photo's aspect ratio
        Files.writeString(pre, original.replaceFirst("\"size\": \\{[^}]*\\}", "\"size\": {\"shortest_edge\": 30}"));
        ModelLoadException edge = assertThrows(ModelLoadException.class, () -> ModelLoader.load(dir, "c"));
        assertTrue(edge.getMessage().contains("do_center_crop"), edge.getMessage());
        Files.writeString(pre, original.replace("\"do_center_crop\": false", "\"do_center_crop\": true")
                .replaceFirst("\"crop_size\": \\{[^}]*\\}", "\"crop_size\": {\"height\": 24, \"width\": 24}"));
        ModelLoadException crop = assertThrows(ModelLoadException.class, () -> ModelLoader.load(dir, "c"));
        assertTrue(crop.getMessage().contains("makes 24x24 images, not the image tower's 30x30"), crop.getMessage());
    }

    @Test
    void aMissingTokenizerOrLogitScaleOrAnUnbuiltActivationIsRefused(@TempDir Path dir) throws Exception {
        copy(dir);
        Files.delete(dir.resolve("tokenizer.json"));
        ModelLoadException tokenizer = assertThrows(ModelLoadException.class, () -> ModelLoader.load(dir, "c"));
        assertTrue(tokenizer.getMessage().contains("tokenizer.json is missing"), tokenizer.getMessage());
        Files.copy(Fixtures.tinyClip().resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"quick_gelu\"", "\"relu\""));
        ModelLoadException act = assertThrows(ModelLoadException.class, () -> ModelLoader.load(dir, "c"));
        assertTrue(act.getMessage().contains("hidden_act 'relu'"), act.getMessage());
    }
}
