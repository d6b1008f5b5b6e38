package dev.vitserve.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vitserve.api.ClipConfig;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.VitConfig;
import dev.vitserve.core.image.PreprocessorConfig;
import dev.vitserve.core.inference.ScoreFunction;
import dev.vitserve.core.text.TextTokenizer;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Reads the folder of a Hugging Face {@code CLIPModel}: {@code config.json}'s {@code text_config},
 * {@code vision_config} and {@code projection_dim} with CLIPTextConfig's and CLIPVisionConfig's defaults for missing
 * keys, the CLIPImageProcessor settings vitserve can apply, the tokenizer files, and {@code logit_scale} from
 * {@code model.safetensors}; or of a {@code SiglipModel}, with SiglipTextConfig's and SiglipVisionConfig's defaults,
 * {@code logit_scale} and {@code logit_bias}, sigmoid scores, and texts padded to the 64 tokens the zero-shot pipeline
 * pads SigLIP's to.
 */
final class ClipModelLoader {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ClipModelLoader() {
    }

    /** Whether config.json describes a CLIPModel. */
    static boolean isClip(JsonNode config) {
        if (config.path("model_type").asText("").equals("clip")) {
            return true;
        }
        for (JsonNode architecture : config.path("architectures")) {
            if (architecture.asText().equals("CLIPModel")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The length the zero-shot pipeline pads and truncates SigLIP's texts to ({@code padding="max_length",
     * max_length=64, truncation=True}); {@code get_text_features} is documented with the same.
     */
    static final int SIGLIP_TEXT_LENGTH = 64;

    /** Whether config.json describes a SiglipModel. */
    static boolean isSiglip(JsonNode config) {
        if (config.path("model_type").asText("").equals("siglip")) {
            return true;
        }
        for (JsonNode architecture : config.path("architectures")) {
            if (architecture.asText().equals("SiglipModel")) {
                return true;
            }
        }
        return false;
    }

    static LoadedModel load(Path directory, String name, Path configFile, JsonNode config) throws ModelLoadException {
        if (isSiglip(config)) {
            return loadSiglip(directory, name, configFile, config);
        }
        JsonNode v = config.path("vision_config");
        JsonNode t = config.path("text_config");
        ClipConfig clip;
        try {
            int projection = integer(configFile, config, "projection_dim", 512);
            int imageSize = integer(configFile, v, "image_size", 224);
            VitConfig vision = new VitConfig(imageSize, imageSize, integer(configFile, v, "num_channels", 3),
                    integer(configFile, v, "patch_size", 32), integer(configFile, v, "hidden_size", 768),
                    integer(configFile, v, "num_hidden_layers", 12), integer(configFile, v, "num_attention_heads", 12),
                    integer(configFile, v, "intermediate_size", 3072), v.path("layer_norm_eps").asDouble(1e-5), true,
                    projection, v.path("hidden_act").asText("quick_gelu"));
            ClipConfig.Text text = new ClipConfig.Text(integer(configFile, t, "vocab_size", 49408),
                    integer(configFile, t, "hidden_size", 512), integer(configFile, t, "num_hidden_layers", 12),
                    integer(configFile, t, "num_attention_heads", 8), integer(configFile, t, "intermediate_size", 2048),
                    integer(configFile, t, "max_position_embeddings", 77), t.path("layer_norm_eps").asDouble(1e-5),
                    t.path("hidden_act").asText("quick_gelu"), t.path("eos_token_id").asLong(49407));
            clip = new ClipConfig(vision, text, projection);
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(configFile + ": " + e.getMessage(), e);
        }
        for (String act : List.of(clip.vision().hiddenAct(), clip.text().hiddenAct())) {
            if (!ClipConfig.ACTIVATIONS.contains(act)) {
                throw new ModelLoadException(configFile + ": hidden_act '" + act + "' is not built; vitserve builds CLIP"
                        + " towers with " + ClipConfig.ACTIVATIONS);
            }
        }
        PreprocessorConfig preprocessing = preprocessing(directory, clip.vision());
        Path weightsFile = directory.resolve(ModelLoader.WEIGHTS);
        if (!Files.isRegularFile(weightsFile)) {
            throw new ModelLoadException(ModelLoader.WEIGHTS + " is missing in " + directory + ": vitserve builds"
                    + " CLIP's towers from its safetensors weights");
        }
        SafetensorsFile weights = SafetensorsFile.open(weightsFile);
        double logitScale = scalar(weights, "logit_scale", "CLIPModel");
        TextTokenizer tokenizer = TextTokenizer.load(directory, clip.text().maxPositions());
        return new LoadedModel(new ModelFiles(name, directory, clip.vision(), Optional.of(weights), Optional.of(clip)),
                List.of(), preprocessing, ScoreFunction.SOFTMAX, Optional.of(new TextTower(tokenizer, logitScale)));
    }

    private static LoadedModel loadSiglip(Path directory, String name, Path configFile, JsonNode config)
            throws ModelLoadException {
        JsonNode v = config.path("vision_config");
        JsonNode t = config.path("text_config");
        ClipConfig siglip;
        try {
            if (!v.path("vision_use_head").asBoolean(true)) {
                throw new IllegalArgumentException("vision_config.vision_use_head is false: such a vision tower has no"
                        + " pooled image embedding, and SiglipModel's image features are the head's output");
            }
            int imageSize = integer(configFile, v, "image_size", 224);
            int visionHidden = integer(configFile, v, "hidden_size", 768);
            VitConfig vision = new VitConfig(imageSize, imageSize, integer(configFile, v, "num_channels", 3),
                    integer(configFile, v, "patch_size", 16), visionHidden,
                    integer(configFile, v, "num_hidden_layers", 12), integer(configFile, v, "num_attention_heads", 12),
                    integer(configFile, v, "intermediate_size", 3072), v.path("layer_norm_eps").asDouble(1e-6), true,
                    visionHidden, v.path("hidden_act").asText("gelu_pytorch_tanh"));
            int textHidden = integer(configFile, t, "hidden_size", 768);
            ClipConfig.Text text = new ClipConfig.Text(integer(configFile, t, "vocab_size", 32000), textHidden,
                    integer(configFile, t, "num_hidden_layers", 12), integer(configFile, t, "num_attention_heads", 12),
                    integer(configFile, t, "intermediate_size", 3072),
                    integer(configFile, t, "max_position_embeddings", SIGLIP_TEXT_LENGTH),
                    t.path("layer_norm_eps").asDouble(1e-6), t.path("hidden_act").asText("gelu_pytorch_tanh"),
                    t.path("eos_token_id").asLong(1));
            int projection = integer(configFile, t, "projection_size", textHidden);
            if (projection != visionHidden) {
                throw new IllegalArgumentException("text_config.projection_size " + projection + " (hidden_size when"
                        + " unset) differs from vision_config.hidden_size " + visionHidden + ": the two embeddings"
                        + " would not share a space");
            }
            if (text.maxPositions() < SIGLIP_TEXT_LENGTH) {
                throw new IllegalArgumentException("text_config.max_position_embeddings is " + text.maxPositions()
                        + ", but the zero-shot pipeline pads SigLIP's texts to " + SIGLIP_TEXT_LENGTH + " tokens");
            }
            siglip = new ClipConfig(vision, text, projection, ClipConfig.Family.SIGLIP);
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(configFile + ": " + e.getMessage(), e);
        }
        for (String act : List.of(siglip.vision().hiddenAct(), siglip.text().hiddenAct())) {
            if (!ClipConfig.ACTIVATIONS.contains(act)) {
                throw new ModelLoadException(configFile + ": hidden_act '" + act + "' is not built; vitserve builds"
                        + " SigLIP towers with " + ClipConfig.ACTIVATIONS);
            }
        }
        PreprocessorConfig preprocessing = preprocessing(directory, siglip.vision());
        Path weightsFile = directory.resolve(ModelLoader.WEIGHTS);
        if (!Files.isRegularFile(weightsFile)) {
            throw new ModelLoadException(ModelLoader.WEIGHTS + " is missing in " + directory + ": vitserve builds"
                    + " SigLIP's towers from its safetensors weights");
        }
        SafetensorsFile weights = SafetensorsFile.open(weightsFile);
        double logitScale = scalar(weights, "logit_scale", "SiglipModel");
        double logitBias = scalar(weights, "logit_bias", "SiglipModel");
        TextTokenizer tokenizer = TextTokenizer.loadPadded(directory, SIGLIP_TEXT_LENGTH);
        return new LoadedModel(new ModelFiles(name, directory, siglip.vision(), Optional.of(weights),
                Optional.of(siglip)), List.of(), preprocessing, ScoreFunction.SIGMOID,
                Optional.of(new TextTower(tokenizer, logitScale, logitBias, ScoreFunction.SIGMOID)));
    }

    /**
     * The model's image processor, as for every model (CLIPImageProcessor's shortest-edge resize, BICUBIC and center
     * crop included), when the tensor it makes has the image tower's size.
     */
    private static PreprocessorConfig preprocessing(Path directory, VitConfig vision) throws ModelLoadException {
        Path file = directory.resolve(ModelLoader.PREPROCESSOR_CONFIG);
        if (!Files.isRegularFile(file)) {
            throw new ModelLoadException(ModelLoader.PREPROCESSOR_CONFIG + " is missing in " + directory
                    + ": vitserve needs it to prepare images exactly as Hugging Face does");
        }
        PreprocessorConfig preprocessing;
        try {
            preprocessing = PreprocessorConfig.read(file);
        } catch (IOException | IllegalArgumentException e) {
            throw new ModelLoadException(e.getMessage(), e);
        }
        if (preprocessing.fixedSize().isEmpty()) {
            throw new ModelLoadException(file + ": " + preprocessing.variableSizeReason()
                    + "; vitserve serves a model one fixed input size (set do_center_crop, or size {height, width})");
        }
        if (preprocessing.height() != vision.imageHeight() || preprocessing.width() != vision.imageWidth()) {
            throw new ModelLoadException(file + " makes " + preprocessing.width() + "x" + preprocessing.height()
                    + " images, not the image tower's " + vision.imageWidth() + "x" + vision.imageHeight()
                    + " (vision_config.image_size)");
        }
        return preprocessing;
    }

    private static double scalar(SafetensorsFile weights, String name, String architecture)
            throws ModelLoadException {
        if (!weights.contains(name)) {
            throw new ModelLoadException(weights.file() + " has no tensor '" + name + "': it is not the checkpoint of a"
                    + " whole " + architecture);
        }
        FloatBuffer values;
        try {
            values = weights.floats(name);
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException("cannot read " + name + " of " + weights.file() + ": " + e.getMessage(), e);
        }
        if (values.remaining() != 1) {
            throw new ModelLoadException(name + " of " + weights.file() + " holds " + values.remaining()
                    + " values, not one");
        }
        return values.get(values.position());
    }

    private static int integer(Path file, JsonNode node, String key, int fallback) throws ModelLoadException {
        JsonNode value = node.path(key);
        if (value.isMissingNode() || value.isNull()) {
            return fallback;
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt()) {
            throw new ModelLoadException(file + ": " + key + " must be a whole number, got " + value);
        }
        return value.asInt();
    }
}
