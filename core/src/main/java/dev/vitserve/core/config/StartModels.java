package dev.vitserve.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The models a server starts with: those of {@code --model} (or, when no flag or variable names one,
 * the config file's {@code models:} list), then every model folder of {@code --model-repository};
 * the built-in default model when none is named at all.
 */
final class StartModels {

    private StartModels() {
    }

    static List<ModelSettings> of(ServerConfig config, List<String> specs, JsonNode fileModels, Path repository)
            throws ConfigException {
        List<ModelSettings> models = new ArrayList<>();
        for (String spec : specs) {
            models.add(ModelSpec.parse(spec, config.modelDefaults(ModelSpec.defaultName(spec), spec)));
        }
        if (specs.isEmpty() && fileModels != null) {
            if (!fileModels.isArray()) {
                throw new ConfigException("config file: 'models' must be a list of models, each with a 'model' key");
            }
            for (JsonNode entry : fileModels) {
                if (!entry.path("model").isValueNode()) {
                    throw new ConfigException("config file: every entry of 'models' needs a 'model' (a Hub id or a "
                            + "folder), got " + entry);
                }
                models.add(config.modelDefaults("", "").with(entry));
            }
        }
        if (repository != null) {
            models.addAll(repository(config, repository));
        }
        if (models.isEmpty()) {
            models.add(config.modelDefaults(ServerConfig.DEFAULT_MODEL, ServerConfig.DEFAULT_MODEL));
        }
        Set<String> names = new HashSet<>();
        for (ModelSettings model : models) {
            model.checkRevision();
            if (!names.add(model.name())) {
                throw new ConfigException("two models are named '" + model.name() + "'; name them apart with "
                        + "--model NAME=ID|DIR or a name: in the config file");
            }
        }
        return List.copyOf(models);
    }

    /** The subfolders of a model repository that hold a config.json, by name. */
    static List<Path> modelFolders(Path repository) throws IOException {
        try (Stream<Path> children = Files.list(repository)) {
            return children.filter(child -> Files.isRegularFile(child.resolve("config.json"))).sorted().toList();
        }
    }

    private static List<ModelSettings> repository(ServerConfig config, Path repository) throws ConfigException {
        if (!Files.isDirectory(repository)) {
            throw new ConfigException("--model-repository " + repository + " is not a folder");
        }
        try {
            List<ModelSettings> models = new ArrayList<>();
            for (Path folder : modelFolders(repository)) {
                String name = folder.getFileName().toString();
                ModelSettings.checkName(name);
                models.add(config.modelDefaults(name, folder.toString()));
            }
            if (models.isEmpty()) {
                throw new ConfigException("--model-repository " + repository + " has no subfolder with a config.json");
            }
            return models;
        } catch (IOException e) {
            throw new ConfigException("cannot list --model-repository " + repository + ": " + e.getMessage(), e);
        }
    }
}
