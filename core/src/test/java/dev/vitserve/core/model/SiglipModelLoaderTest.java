package dev.vitserve.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.api.ClipConfig;
import dev.vitserve.core.inference.ScoreFunction;
import dev.vitserve.core.inference.ZeroShotScores;
import dev.vitserve.testkit.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A SiglipModel folder is read with its towers, its tokenizer padding to 64, logit_scale, logit_bias and sigmoid
 * scoring; configs whose embeddings would not share a space, or whose texts cannot be padded to 64, are refused.
 */
class SiglipModelLoaderTest {

    private static final List<String> FILES = List.of("config.json", "preprocessor_config.json", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json", "model.safetensors");

    private static Path copy(Path dir) throws IOException {
        for (String file : FILES) {
            Files.copy(Fixtures.tinySiglip().resolve(file), dir.resolve(file));
        }
        return dir;
    }

    @Test
    void readsTheTowersTokenizerScaleBiasAndScoring() throws Exception {
        LoadedModel model = ModelLoader.load(Fixtures.tinySiglip(), "tiny-siglip");
        try {
            assertEquals(Task.ZERO_SHOT_IMAGE_CLASSIFICATION, model.task());
            ClipConfig siglip = model.files().clip().orElseThrow();
            assertEquals(ClipConfig.Family.SIGLIP, siglip.family());
            assertEquals(20, siglip.projectionDim());
            assertEquals(20, model.embeddingDimensions());
            assertEquals(30, siglip.vision().imageHeight());
            assertEquals(25, siglip.vision().numPatches());
            assertEquals("gelu_pytorch_tanh", siglip.vision().hiddenAct());
            assertEquals(24, siglip.text().hiddenSize());
            assertEquals(64, siglip.text().maxPositions());
            TextTower tower = model.text().orElseThrow();
            assertEquals(1.9, tower.logitScale(), 1e-6);
            assertEquals(-0.7, tower.logitBias(), 1e-6);
            assertEquals(ScoreFunction.SIGMOID, tower.scores());
            assertEquals(64, tower.tokenizer().maxLength());
            assertTrue(tower.tokenizer().padsToMaxLength());
            assertEquals(1, tower.tokenizer().padId());
            assertEquals(30, model.preprocessing().height());
            // scores are each logit's sigmoid (they need not sum to one), sorted
            List<ZeroShotScores.Scored> ranked = tower.ranked(List.of("a", "b"), new double[] {-1, 2});
            assertEquals("b", ranked.get(0).label());
            assertEquals(1 / (1 + Math.exp(-2)), ranked.get(0).score(), 1e-12);
            assertEquals(1 / (1 + Math.exp(1)), ranked.get(1).score(), 1e-12);
        } finally {
            model.closeText();
        }
    }

    @Test
    void embeddingsOfDifferentWidthsAndTooFewPositionsAreRefused(@TempDir Path dir) throws Exception {
        copy(dir);
        Path config = dir.resolve("config.json");
        String original = Files.readString(config);
        Files.writeString(config, original.replace("\"projection_size\": 20", "\"projection_size\": 24"));
        ModelLoadException width = assertThrows(ModelLoadException.class, () -> ModelLoader.load(dir, "x"));
        assertTrue(width.getMessage().contains("projection_size 24"), width.getMessage());
        Files.writeString(config, original.replace("\"max_position_embeddings\": 64", "\"max_position_embeddings\": 16"));
        ModelLoadException positions = assertThrows(ModelLoadException.class, () -> ModelLoader.load(dir, "x"));
        assertTrue(positions.getMessage().contains("pads SigLIP's texts to 64"), positions.getMessage());
        Files.writeString(config, original);
        Files.delete(dir.resolve("tokenizer.json"));
        ModelLoadException tokenizer = assertThrows(ModelLoadException.class, () -> ModelLoader.load(dir, "x"));
        assertTrue(tokenizer.getMessage().contains("tokenizer.json is missing"), tokenizer.getMessage());
    }
}
