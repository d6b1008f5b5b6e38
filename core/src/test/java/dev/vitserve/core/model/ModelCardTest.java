package dev.vitserve.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.TemporaryFolder;
import dev.vitserve.testkit.Fixtures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A model folder's card says what the model is: its first paragraph of prose, plain, bounded. */
class ModelCardTest {

    @Test
    void theFirstParagraphAfterFrontMatterAndHeadings() {
        String card = """
                ---
                license: apache-2.0
                tags:
                - vision
                ---

                # Vision Transformer (base-sized model)

                [![badge](https://example.com/b.svg)](https://example.com)
                <img src="x.png">

                Vision Transformer (ViT) model pre-trained on **ImageNet-21k**
                and fine-tuned on [ImageNet](https://www.image-net.org/) at `224x224`.

                Disclaimer: the second paragraph is not part of it.
                """;
        assertEquals(Optional.of("Vision Transformer (ViT) model pre-trained on ImageNet-21k and fine-tuned on ImageNet at"
                + " 224x224."), ModelCard.description(card));
    }

    @Test
    void codeListsAndTablesAreNoDescription() {
        assertEquals(Optional.empty(), ModelCard.description("# Title\n\n```\ncode line\n```\n- a list\n| a | b |\n"));
        assertEquals(Optional.empty(), ModelCard.description("---\nlicense: mit\n"), "unclosed front matter");
        assertEquals(Optional.empty(), ModelCard.description(""));
        assertEquals(Optional.of("Prose after code."), ModelCard.description("```python\nx = 1\n```\nProse after code.\n"));
    }

    @Test
    void aLongParagraphIsCutAtAWord() {
        String words = "word ".repeat(200);
        String description = ModelCard.description(words).orElseThrow();
        assertTrue(description.length() <= ModelCard.MAX_CHARS, description.length() + " characters");
        assertTrue(description.endsWith("word…"), description);
    }

    @Test
    void theQuickStartModelSaysItsAnswersMeanNothing() throws Exception {
        LoadedModel tiny = ModelLoader.load(Fixtures.tinyVit(), "tiny-vit");
        String description = tiny.description().orElseThrow();
        assertTrue(description.startsWith("A random-weight ViT") && description.contains("answers mean nothing"), description);
    }

    @Test
    void aFolderWithoutACardSaysNothing() throws Exception {
        try (TemporaryFolder folder = TemporaryFolder.create("vitserve-card-")) {
            for (String file : new String[] {"config.json", "preprocessor_config.json", "model.safetensors"}) {
                Files.createSymbolicLink(folder.path().resolve(file), Fixtures.tinyVit().resolve(file));
            }
            assertEquals(Optional.empty(), ModelLoader.load(folder.path(), "bare").description());
            Files.writeString(folder.path().resolve(ModelCard.FILE), "# bare\n\nA bare copy.\n", StandardCharsets.UTF_8);
            assertEquals(Optional.of("A bare copy."), ModelLoader.load(folder.path(), "bare").description());
        }
    }
}
