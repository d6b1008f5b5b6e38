package dev.vitserve.core.model;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.ModelWeights;
import dev.vitserve.api.VitConfig;
import dev.vitserve.core.image.PreprocessorConfig;
import dev.vitserve.core.inference.ScoreFunction;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads a model folder in the Hugging Face layout: {@code config.json} (the network's shape,
 * {@code id2label}) and {@code preprocessor_config.json}, with ViTConfig's defaults for
 * missing keys, and refuses anything vitserve cannot serve with a message naming the file.
 */
public final class ModelLoader {

    static final String CONFIG = "config.json";
    static final String PREPROCESSOR_CONFIG = "preprocessor_config.json";
    static final String WEIGHTS = "model.safetensors";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelLoader() {
    }

    /**
     * Reads the folder.
     *
     * @param name how people know the model (a Hub id or the folder)
     */
    public static LoadedModel load(Path directory, String name) throws ModelLoadException {
        if (!Files.isDirectory(directory)) {
            throw new ModelLoadException("model folder " + directory + " does not exist or is not a folder");
        }
        Path configFile = directory.resolve(CONFIG);
        JsonNode config = readJson(configFile);
        checkArchitecture(configFile, config);
        List<String> labels = labels(configFile, config);
        VitConfig shape = shape(configFile, config, labels.size());

        Path preprocessorFile = directory.resolve(PREPROCESSOR_CONFIG);
        if (!Files.isRegularFile(preprocessorFile)) {
            throw new ModelLoadException(PREPROCESSOR_CONFIG + " is missing in " + directory
                    + ": vitserve needs it to prepare images exactly as Hugging Face does");
        }
        PreprocessorConfig preprocessing;
        try {
            preprocessing = PreprocessorConfig.read(preprocessorFile);
        } catch (IOException e) {
            throw new ModelLoadException(e.getMessage(), e);
        }
        if (preprocessing.fixedSize().isEmpty()) {
            throw new ModelLoadException(preprocessorFile + ": " + preprocessing.variableSizeReason()
                    + "; vitserve serves a model one fixed input size (set do_center_crop, or size {height, width})");
        }
        if ((preprocessing.doResize() || preprocessing.doCenterCrop())
                && (preprocessing.height() != shape.imageHeight() || preprocessing.width() != shape.imageWidth())) {
            throw new ModelLoadException(preprocessorFile + " resizes to " + preprocessing.width() + "x"
                    + preprocessing.height() + " but " + configFile + " says image_size " + shape.imageWidth() + "x"
                    + shape.imageHeight() + "; the model cannot take that input");
        }
        String problemType = config.path("problem_type").isTextual() ? config.get("problem_type").asText() : null;
        Path weightsFile = directory.resolve(WEIGHTS);
        Optional<ModelWeights> weights = Files.isRegularFile(weightsFile)
                ? Optional.of(SafetensorsFile.open(weightsFile)) : Optional.empty();
        return new LoadedModel(new ModelFiles(name, directory, shape, weights), labels, preprocessing,
                ScoreFunction.defaultFor(problemType, labels.size()));
    }

    private static JsonNode readJson(Path file) throws ModelLoadException {
        try {
            JsonNode node = JSON.readTree(Files.readString(file));
            if (node == null || !node.isObject()) {
                throw new ModelLoadException(file + " must hold a JSON object");
            }
            return node;
        } catch (NoSuchFileException e) {
            throw new ModelLoadException(file.getFileName() + " is missing in " + file.getParent()
                    + ": a Hugging Face model folder has config.json, preprocessor_config.json and the weights");
        } catch (JacksonException e) {
            throw new ModelLoadException(file + " is not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() != null ? " (line " + e.getLocation().getLineNr() + ")" : ""), e);
        } catch (IOException e) {
            throw new ModelLoadException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static void checkArchitecture(Path file, JsonNode config) throws ModelLoadException {
        String modelType = config.path("model_type").asText("");
        if (!modelType.isEmpty() && !modelType.equals("vit")) {
            throw new ModelLoadException(file + ": model_type '" + modelType + "' is not supported; vitserve serves "
                    + "Vision Transformer classifiers (model_type 'vit', ViTForImageClassification)");
        }
        JsonNode architectures = config.path("architectures");
        if (architectures.isArray() && architectures.size() > 0) {
            for (JsonNode architecture : architectures) {
                if (architecture.asText().equals("ViTForImageClassification")) {
                    return;
                }
            }
            throw new ModelLoadException(file + ": architectures " + architectures + " has no "
                    + "ViTForImageClassification; vitserve needs a ViT with its image classification head");
        }
    }

    private static List<String> labels(Path file, JsonNode config) throws ModelLoadException {
        JsonNode id2label = config.path("id2label");
        if (id2label.isMissingNode() || id2label.isNull()) {
            int count = config.path("num_labels").asInt(2);
            List<String> generated = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                generated.add("LABEL_" + i);
            }
            return generated;
        }
        if (!id2label.isObject() || id2label.isEmpty()) {
            throw new ModelLoadException(file + ": id2label must be a non-empty object mapping \"0\", \"1\", ... to labels");
        }
        String[] labels = new String[id2label.size()];
        for (var it = id2label.fields(); it.hasNext(); ) {
            var entry = it.next();
            int index;
            try {
                index = Integer.parseInt(entry.getKey());
            } catch (NumberFormatException e) {
                throw new ModelLoadException(file + ": id2label key '" + entry.getKey() + "' is not a class index");
            }
            if (index < 0 || index >= labels.length || labels[index] != null) {
                throw new ModelLoadException(file + ": id2label must number its " + labels.length
                        + " classes 0 to " + (labels.length - 1) + " once each; found key '" + entry.getKey() + "'");
            }
            if (!entry.getValue().isTextual()) {
                throw new ModelLoadException(file + ": id2label[\"" + index + "\"] must be a string");
            }
            labels[index] = entry.getValue().asText();
        }
        return List.of(labels);
    }

    private static VitConfig shape(Path file, JsonNode config, int numLabels) throws ModelLoadException {
        try {
            int[] imageSize = pair(file, config.path("image_size"), 224, "image_size");
            int patch = pair(file, config.path("patch_size"), 16, "patch_size")[0];
            return new VitConfig(imageSize[0], imageSize[1], integer(file, config, "num_channels", 3), patch,
                    integer(file, config, "hidden_size", 768), integer(file, config, "num_hidden_layers", 12),
                    integer(file, config, "num_attention_heads", 12), integer(file, config, "intermediate_size", 3072),
                    config.path("layer_norm_eps").asDouble(1e-12), config.path("qkv_bias").asBoolean(true), numLabels,
                    config.path("hidden_act").asText("gelu"));
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(file + ": " + e.getMessage(), e);
        }
    }

    private static int integer(Path file, JsonNode config, String key, int fallback) throws ModelLoadException {
        JsonNode node = config.path(key);
        if (node.isMissingNode() || node.isNull()) {
            return fallback;
        }
        if (!node.canConvertToInt() || !node.isIntegralNumber()) {
            throw new ModelLoadException(file + ": " + key + " must be a whole number, got " + node);
        }
        return node.asInt();
    }

    /** An int, or a list of two ints (height, width), as ViTConfig accepts for sizes. */
    private static int[] pair(Path file, JsonNode node, int fallback, String key) throws ModelLoadException {
        if (node.isMissingNode() || node.isNull()) {
            return new int[] {fallback, fallback};
        }
        if (node.isIntegralNumber()) {
            return new int[] {node.asInt(), node.asInt()};
        }
        if (node.isArray() && node.size() == 2 && node.get(0).isIntegralNumber() && node.get(1).isIntegralNumber()) {
            if (key.equals("patch_size") && node.get(0).asInt() != node.get(1).asInt()) {
                throw new ModelLoadException(file + ": non-square patch_size " + node + " is not supported");
            }
            return new int[] {node.get(0).asInt(), node.get(1).asInt()};
        }
        throw new ModelLoadException(file + ": " + key + " must be a whole number or [height, width], got " + node);
    }
}
