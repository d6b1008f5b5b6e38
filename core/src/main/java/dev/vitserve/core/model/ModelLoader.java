package dev.vitserve.core.model;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.ModelWeights;
import dev.vitserve.api.VitConfig;
import dev.vitserve.api.arch.Architectures;
import dev.vitserve.api.arch.ConfigValues;
import dev.vitserve.api.arch.Exported;
import dev.vitserve.core.image.PreprocessorConfig;
import dev.vitserve.core.inference.ScoreFunction;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
     * Reads the folder, and what its model card says the model is ({@link ModelCard}).
     *
     * @param name how people know the model (a Hub id or the folder)
     */
    public static LoadedModel load(Path directory, String name) throws ModelLoadException {
        return read(directory, name).withDescription(ModelCard.description(directory));
    }

    private static LoadedModel read(Path directory, String name) throws ModelLoadException {
        if (!Files.isDirectory(directory)) {
            throw new ModelLoadException("model folder " + directory + " does not exist or is not a folder");
        }
        Path configFile = directory.resolve(CONFIG);
        JsonNode config = readJson(configFile);
        if (ClipModelLoader.isClip(config) || ClipModelLoader.isSiglip(config)) {
            return ClipModelLoader.load(directory, name, configFile, config);
        }
        ConfigValues values = values(configFile, config);
        Optional<Architectures.Entry> built = chooseArchitecture(configFile, values);
        Optional<Path> exportedFile = exportedFile(directory);
        if (built.isEmpty() && exportedFile.isPresent()) {
            return exported(directory, name, configFile, config, values);
        }
        Architectures.Entry architecture = built.orElseThrow(() -> unsupported(configFile, values));
        List<String> labels = labels(configFile, config);
        VitConfig shape = shape(configFile, values, architecture, labels.size());

        Path preprocessorFile = directory.resolve(PREPROCESSOR_CONFIG);
        PreprocessorConfig preprocessing = preprocessing(directory, preprocessorFile);
        if ((preprocessing.doResize() || preprocessing.doCenterCrop()) && shape.architecture().interpolatesPositions()) {
            // the network takes the processor's size, its position embeddings interpolated to it
            try {
                shape = shape.withImageSize(preprocessing.height(), preprocessing.width());
            } catch (IllegalArgumentException e) {
                throw new ModelLoadException(preprocessorFile + " resizes to " + preprocessing.width() + "x"
                        + preprocessing.height() + ", which " + architecture.className() + " of " + configFile
                        + " cannot take: " + e.getMessage(), e);
            }
        } else if ((preprocessing.doResize() || preprocessing.doCenterCrop())
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

    /**
     * A classifier vitserve does not build, served from its ONNX export: of config.json only the labels and
     * num_channels; the input size is the image processor's (the backend checks it against the graph's fixed dims).
     */
    private static LoadedModel exported(Path directory, String name, Path configFile, JsonNode config,
                                        ConfigValues values) throws ModelLoadException {
        List<String> named = values.texts("architectures");
        String modelType = values.text("model_type", "");
        Exported architecture = new Exported(named.isEmpty() ? (modelType.isEmpty() ? "unnamed" : modelType)
                : named.get(0), modelType);
        List<String> labels = labels(configFile, config);
        Path preprocessorFile = directory.resolve(PREPROCESSOR_CONFIG);
        PreprocessorConfig preprocessing = preprocessing(directory, preprocessorFile);
        if (!preprocessing.doResize()) {
            throw new ModelLoadException(preprocessorFile + " does not resize (do_resize is false), but the exported "
                    + architecture.className() + " takes its image size from the image processor's size: set"
                    + " do_resize true with size {\"height\": H, \"width\": W} as the network was trained");
        }
        VitConfig shape;
        try {
            shape = VitConfig.exported(preprocessing.height(), preprocessing.width(), values.integer("num_channels", 3),
                    labels.size(), architecture);
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(configFile + ": " + e.getMessage(), e);
        }
        String problemType = config.path("problem_type").isTextual() ? config.get("problem_type").asText() : null;
        // no weights: model.safetensors of an architecture vitserve does not build is not read
        return new LoadedModel(new ModelFiles(name, directory, shape, Optional.empty()), labels, preprocessing,
                ScoreFunction.defaultFor(problemType, labels.size()));
    }

    private static Optional<Path> exportedFile(Path directory) {
        return Exported.FILES.stream().map(directory::resolve).filter(Files::isRegularFile).findFirst();
    }

    private static PreprocessorConfig preprocessing(Path directory, Path preprocessorFile) throws ModelLoadException {
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
        return preprocessing;
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
            // where, not what: the parser's message quotes the file's content
            throw new ModelLoadException(file + " is not valid JSON" + (e.getLocation() != null ? " (line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")" : ""), e);
        } catch (IOException e) {
            throw new ModelLoadException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** config.json as the architectures' readers take it. */
    @SuppressWarnings("unchecked")
    private static ConfigValues values(Path file, JsonNode config) throws ModelLoadException {
        try {
            return new ConfigValues(JSON.convertValue(config, Map.class));
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(file + ": " + e.getMessage(), e);
        }
    }

    /** The architecture config.json names, when vitserve builds it. */
    private static Optional<Architectures.Entry> chooseArchitecture(Path file, ConfigValues config)
            throws ModelLoadException {
        try {
            return Architectures.choose(config);
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(file + ": " + e.getMessage(), e);
        }
    }

    /** The refusal of an architecture vitserve does not build, in a folder without an ONNX export. */
    private static ModelLoadException unsupported(Path file, ConfigValues config) {
        List<String> named = config.texts("architectures");
        String what = named.isEmpty() ? "model_type '" + config.text("model_type", "") + "'"
                : "architectures " + named + (config.has("model_type") ? " (model_type '" + config.text("model_type", "") + "')" : "");
        String id = config.text("_name_or_path", "");
        return new ModelLoadException(file + ": " + what + " is not supported; vitserve builds these image classifiers"
                + " from model.safetensors: " + Architectures.describeSupported() + " (and CLIPModel for zero-shot"
                + " classification). Any other image classifier is"
                + " served from its ONNX export with --backend onnx, and " + file.getParent() + " has no "
                + String.join(" or ", Exported.FILES) + ": export it with Optimum (optimum-cli export onnx --model "
                + (id.isEmpty() ? "<hub id or folder>" : id) + " --task image-classification <folder>) and put"
                + " the model.onnx it writes in this folder (input pixel_values, output logits)");
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

    private static VitConfig shape(Path file, ConfigValues config, Architectures.Entry architecture, int numLabels)
            throws ModelLoadException {
        try {
            return architecture.reader().read(config, numLabels);
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(file + ": " + e.getMessage(), e);
        }
    }
}
