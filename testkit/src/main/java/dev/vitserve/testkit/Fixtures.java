package dev.vitserve.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Finds the shared test fixtures in {@code testkit/fixtures}: the tiny ViT model, the photos,
 * the files that are not images, and the reference outputs computed with PyTorch and Pillow.
 * Maven passes the folder as the system property {@code vitserve.testdata}.
 */
public final class Fixtures {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Fixtures() {
    }

    /** The fixtures folder. */
    public static Path root() {
        String configured = System.getProperty("vitserve.testdata");
        Path root = configured != null ? Paths.get(configured) : Paths.get("..", "testkit", "fixtures");
        if (!Files.isDirectory(root)) {
            throw new IllegalStateException("test fixtures not found at " + root.toAbsolutePath()
                    + " (set the system property vitserve.testdata)");
        }
        return root.toAbsolutePath().normalize();
    }

    /** The tiny ViT in the Hugging Face layout, with ONNX, TorchScript and safetensors weights. */
    public static Path tinyVit() {
        return root().resolve("tiny-vit");
    }

    /**
     * A model folder of the fixtures: {@code tiny-vit} (224 px, patch 16, hidden 32), {@code vit-shape-a}
     * (64 px, patch 8, hidden 48, 3 layers, 6 heads, no qkv bias, eps 1e-6, ImageNet mean/std, 7 labels) or
     * {@code vit-shape-b} (96 px, patch 32, hidden 24, 1 layer, 2 heads, eps 1e-5, 3 labels). Each holds
     * config.json, preprocessor_config.json, model.safetensors, onnx/model.onnx, model.pt and reference.json.
     */
    public static Path model(String name) {
        return root().resolve(name);
    }

    /**
     * The random-weight CLIP model ({@code tiny-clip}: CLIPModel, vision 30 px, patch 6, hidden 24, 2 layers, 3 heads,
     * quick_gelu; text vocabulary 634, hidden 20, 2 layers, 4 heads, gelu, 16 positions, legacy eos_token_id 2;
     * projection 12): config.json, preprocessor_config.json, tokenizer.json, tokenizer_config.json,
     * special_tokens_map.json, model.safetensors and reference.json, made by {@code testkit/tools/clip-fixture.py}.
     */
    public static Path tinyClip() {
        return root().resolve("tiny-clip");
    }

    /**
     * A random-weight SigLIP model in the Hugging Face SiglipModel layout (vision 30 px, patch 6, width 20, 5 heads;
     * text width 24, 3 heads, 64 positions, its head to 20; a Unigram tokenizer of 190 pieces): config.json,
     * preprocessor_config.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json, model.safetensors and
     * reference.json, made by {@code testkit/tools/siglip-fixture.py}.
     */
    public static Path tinySiglip() {
        return root().resolve("tiny-siglip");
    }

    /** The names of every fixture model folder. */
    public static List<String> modelNames() {
        return List.of("tiny-vit", "vit-shape-a", "vit-shape-b");
    }

    /**
     * The fixtures of the other architectures, made by {@code testkit/tools/hf-vision-port.py} (config.json,
     * preprocessor_config.json, model.safetensors and reference.json, no exported network): {@code deit-shape}
     * (DeiTForImageClassification), {@code deit-teacher-shape} (DeiTForImageClassificationWithTeacher),
     * {@code dinov2-shape} (Dinov2ForImageClassification, trained at 70 px, served at 56x63) and
     * {@code dinov2-registers-shape} (Dinov2WithRegistersForImageClassification, SwiGLU, trained at 36 px, served at 54),
     * {@code beit-shape} (BeitForImageClassification, relative position bias per layer, LayerScale, mean pooling) and
     * {@code beit-shared-shape} (BeitForImageClassification, shared relative position bias, absolute positions, no
     * LayerScale, the class token through the final LayerNorm) and {@code swin-shape} (SwinForImageClassification,
     * 26 px padded to whole patches of 4, window 3 padded and shifted, an odd 7x7 grid merged to 4x4) and
     * {@code swin-window-shape} (SwinForImageClassification, 24x40 px, no qkv bias, a last stage one window high).
     */
    public static List<String> architectureModelNames() {
        return List.of("deit-shape", "deit-teacher-shape", "dinov2-shape", "dinov2-registers-shape", "beit-shape",
                "beit-shared-shape", "swin-shape", "swin-window-shape");
    }

    /**
     * The fixture models with an {@code explain-reference.json} (made by {@code testkit/tools/explain-reference.py}):
     * tiny-vit and every architecture whose tokens attend globally (all of {@link #architectureModelNames()} but Swin).
     */
    public static List<String> rolloutModelNames() {
        return List.of("tiny-vit", "deit-shape", "deit-teacher-shape", "dinov2-shape", "dinov2-registers-shape",
                "beit-shape", "beit-shared-shape");
    }

    /** A fixture model's {@code explain-reference.json}: PyTorch's attention rollout and occlusion maps. */
    public static JsonNode explainReference(String model) {
        return json(model(model).resolve("explain-reference.json"));
    }

    /** The reference attention rollout of the synthetic batch {@code FixtureModels.pixels(config, 0, 3)}. */
    public static float[][] referenceRolloutPixels(String model) {
        return rows(explainReference(model).get("pixels").get("rollout"));
    }

    /** A JSON array of arrays of numbers as floats. */
    public static float[][] rows(JsonNode rows) {
        float[][] values = new float[rows.size()][];
        for (int i = 0; i < values.length; i++) {
            values[i] = new float[rows.get(i).size()];
            for (int j = 0; j < values[i].length; j++) {
                values[i][j] = (float) rows.get(i).get(j).asDouble();
            }
        }
        return values;
    }

    /**
     * Image classifiers of architectures vitserve does not build, as Optimum exports them (config.json,
     * preprocessor_config.json, onnx/model.onnx and reference.json; made by {@code testkit/tools/exported-classifier.py}):
     * {@code convnext-exported} (ConvNextForImageClassification, 48x40, every input axis dynamic, 7 labels) and
     * {@code resnet-exported} (ResNetForImageClassification, 56x56 fixed in the graph, 6 labels).
     */
    public static List<String> exportedModelNames() {
        return List.of("convnext-exported", "resnet-exported");
    }

    /**
     * A fixture's reference for the synthetic batch of {@code FixtureModels.pixels(config, 0, n)}: {@code logits} or
     * {@code embeddings}, one row per image.
     */
    public static float[][] referencePixels(String model, String what) {
        return rows(reference(model).get("pixels").get(what));
    }

    /**
     * The trained digits ViT ({@code digits-vit}: 32 px, patch 4, hidden 64, 4 layers, labels "0".."9"): config.json,
     * preprocessor_config.json and model.safetensors, no exported network.
     */
    public static Path digitsVit() {
        return root().resolve("digits-vit");
    }

    /**
     * The trained digits CLIP ({@code digits-clip}: HF CLIPModel layout, 32 px, patch 8, hidden 64, 2 layers per tower)
     * with its tokenizer files and reference-zero-shot.json (the port's answers on {@link #digitsValidation()}), made by
     * {@code testkit/tools/make-digits-clip.py}.
     */
    public static Path digitsClip() {
        return root().resolve("digits-clip");
    }

    /** A validation image of the digits ViT and the digit it shows. */
    public record LabelledImage(Path file, String label) {
    }

    /** The 300 validation images of the digits ViT ({@code val-images/<index>_<label>.png}), in name order. */
    public static List<LabelledImage> digitsValidation() {
        try (Stream<Path> files = Files.list(digitsVit().resolve("val-images"))) {
            return files.filter(file -> file.getFileName().toString().endsWith(".png")).sorted()
                    .map(file -> {
                        String name = file.getFileName().toString();
                        return new LabelledImage(file, name.substring(name.indexOf('_') + 1, name.length() - ".png".length()));
                    })
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A photo from {@code images/}. */
    public static Path image(String name) {
        return root().resolve("images").resolve(name);
    }

    /** Names of the photos that have reference outputs, sorted. */
    public static List<String> photoNames() {
        List<String> names = new ArrayList<>();
        reference().get("images").fieldNames().forEachRemaining(names::add);
        names.sort(null);
        return names;
    }

    /** The files in {@code images/bad}: empty, truncated, not an image. */
    public static List<Path> badImages() {
        try (Stream<Path> files = Files.list(root().resolve("images").resolve("bad"))) {
            return files.sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code tiny-vit/reference.json}: per photo, the logits and the softmax top 5. */
    public static JsonNode reference() {
        return reference("tiny-vit");
    }

    /** A fixture model's {@code reference.json}. */
    public static JsonNode reference(String model) {
        return json(model(model).resolve("reference.json"));
    }

    /** The reference logits of one photo with the tiny ViT. */
    public static float[] referenceLogits(String photo) {
        return referenceLogits("tiny-vit", photo);
    }

    /** The reference logits of one photo with a fixture model. */
    public static float[] referenceLogits(String model, String photo) {
        JsonNode logits = reference(model).get("images").get(photo).get("logits");
        float[] values = new float[logits.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) logits.get(i).asDouble();
        }
        return values;
    }

    /** Reads a JSON file of the fixtures. */
    public static JsonNode json(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** The bytes of a fixture file. */
    public static byte[] bytes(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
