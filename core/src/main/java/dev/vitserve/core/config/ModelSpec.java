package dev.vitserve.core.config;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** Reads {@code --model [NAME=]ID|DIR} and gives a model its default name. */
final class ModelSpec {

    private ModelSpec() {
    }

    /**
     * The model a {@code --model} value names: {@code NAME=ID|DIR} when it holds a {@code =} and is not an
     * existing path itself, else {@code ID|DIR} under its default name.
     */
    static ModelSettings parse(String spec, ModelSettings defaults) throws ConfigException {
        int equals = spec.indexOf('=');
        if (equals > 0 && !exists(spec)) {
            String name = spec.substring(0, equals);
            String model = spec.substring(equals + 1);
            if (model.isBlank()) {
                throw new ConfigException("--model " + spec + ": nothing after '=' (give NAME=ID or NAME=DIR)");
            }
            ModelSettings.checkName(name);
            return defaults.named(name, model);
        }
        String name = defaultName(spec);
        ModelSettings.checkName(name);
        return defaults.named(name, spec);
    }

    /** A folder's name for a folder (an existing one, or anything spelled as a path), else the Hub id itself. */
    static String defaultName(String model) {
        boolean pathLike = model.startsWith("/") || model.startsWith(".") || model.startsWith("~")
                || model.contains("\\") || model.chars().filter(c -> c == '/').count() > 1;
        if (exists(model) || pathLike) {
            Path fileName = Path.of(model).normalize().toAbsolutePath().getFileName();
            return fileName != null ? fileName.toString() : model;
        }
        return model;
    }

    private static boolean exists(String path) {
        try {
            return Files.exists(Path.of(path));
        } catch (InvalidPathException e) {
            return false;
        }
    }
}
