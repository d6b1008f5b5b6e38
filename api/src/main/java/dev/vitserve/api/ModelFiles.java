package dev.vitserve.api;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * A model folder in the Hugging Face layout, already checked by vitserve: its
 * {@code config.json} has been read into {@link #config()}.
 *
 * @param name how people know the model: a Hub id such as {@code google/vit-base-patch16-224}, or the folder
 * @param directory the folder holding {@code config.json}, the weights and any exported networks
 * @param config the network's shape
 * @param weights the tensors of {@code model.safetensors}, when the folder has that file
 * @param clip the towers of a CLIP model, whose {@code vision()} is then {@code config}; empty for a classifier
 */
public record ModelFiles(String name, Path directory, VitConfig config, Optional<ModelWeights> weights,
                         Optional<ClipConfig> clip) {

    public ModelFiles {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(clip, "clip");
        if (clip.isPresent() && !clip.get().vision().equals(config)) {
            throw new IllegalArgumentException("a CLIP model's config is its image tower");
        }
    }

    /** An image classifier's folder. */
    public ModelFiles(String name, Path directory, VitConfig config, Optional<ModelWeights> weights) {
        this(name, directory, config, weights, Optional.empty());
    }

    /** A folder without safetensors weights (the network comes from an exported file). */
    public ModelFiles(String name, Path directory, VitConfig config) {
        this(name, directory, config, Optional.empty());
    }

    /** The first of the given paths, relative to the folder, that is a regular file. */
    public Optional<Path> find(String... relativePaths) {
        for (String relative : relativePaths) {
            Path candidate = directory.resolve(relative);
            if (Files.isRegularFile(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }
}
