package dev.vitserve.core.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.model.LoadedModel;
import dev.vitserve.core.model.ModelLoader;
import dev.vitserve.core.model.Task;
import dev.vitserve.testkit.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A CLIP or SigLIP repository's tokenizer files come down with the model; a ViT's download asks for none of them.
 */
@Timeout(60)
class HubClipDownloadTest extends StandInHubTest {

    private static final String CLIP = "org/tiny-clip";

    @Test
    void aClipModelsTokenizerFilesAreDownloadedTheOptionalOnesWhenThere() throws Exception {
        hub.repo(CLIP).addFrom(Fixtures.tinyClip(), "config.json", "preprocessor_config.json", "model.safetensors",
                "tokenizer.json", "tokenizer_config.json");
        Path snapshot = support.resolver().resolve(CLIP, "main");
        assertTrue(Files.isRegularFile(snapshot.resolve("tokenizer.json")));
        assertTrue(Files.isRegularFile(snapshot.resolve("tokenizer_config.json")));
        assertFalse(Files.exists(snapshot.resolve("special_tokens_map.json")), "absent on the Hub: not an error");
        LoadedModel model = ModelLoader.load(snapshot, CLIP);
        try {
            assertEquals(Task.ZERO_SHOT_IMAGE_CLASSIFICATION, model.task());
        } finally {
            model.closeText();
        }
        support.tinyVit();
        support.resolver().resolve(HubTestSupport.REPO, "main");
        assertTrue(hub.requests.stream().noneMatch(r -> r.path().contains("/tiny-vit/") && r.path().contains("tokenizer")));
    }

    @Test
    void aClipRepositoryWithoutTokenizerIsRefusedSayingSo() throws Exception {
        hub.repo(CLIP).addFrom(Fixtures.tinyClip(), "config.json", "preprocessor_config.json", "model.safetensors");
        HubException e = assertThrows(HubException.class, () -> support.resolver().resolve(CLIP, "main"));
        assertTrue(e.getMessage().contains("has no tokenizer.json"), e.getMessage());
    }

    @Test
    void aSiglipModelsTokenizerFilesAreDownloadedToo() throws Exception {
        String siglip = "org/tiny-siglip";
        hub.repo(siglip).addFrom(Fixtures.tinySiglip(), "config.json", "preprocessor_config.json", "model.safetensors",
                "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json");
        Path snapshot = support.resolver().resolve(siglip, "main");
        assertTrue(Files.isRegularFile(snapshot.resolve("tokenizer.json")));
        assertTrue(Files.isRegularFile(snapshot.resolve("special_tokens_map.json")));
        LoadedModel model = ModelLoader.load(snapshot, siglip);
        try {
            assertEquals(Task.ZERO_SHOT_IMAGE_CLASSIFICATION, model.task());
            assertEquals(-0.7, model.text().orElseThrow().logitBias(), 1e-6);
        } finally {
            model.closeText();
        }
    }
}
