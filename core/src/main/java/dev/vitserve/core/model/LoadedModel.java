package dev.vitserve.core.model;

import dev.vitserve.api.ModelFiles;
import dev.vitserve.core.image.PreprocessorConfig;
import dev.vitserve.core.inference.ScoreFunction;
import java.util.List;
import java.util.Optional;

/**
 * What vitserve knows about a model before any engine touches it.
 *
 * @param files the folder and the network's shape from config.json
 * @param labels class names by index, from {@code id2label}
 * @param preprocessing the settings of preprocessor_config.json
 * @param defaultFunction how scores are computed when a request does not say
 * @param text the tokenizer and temperature of a zero-shot model (whose {@code labels} are then empty); empty for a
 *     classifier
 * @param description what the folder says the model is ({@link ModelCard}), for people; empty when it says nothing
 */
public record LoadedModel(ModelFiles files, List<String> labels, PreprocessorConfig preprocessing,
                          ScoreFunction defaultFunction, Optional<TextTower> text, Optional<String> description) {

    public LoadedModel {
        labels = List.copyOf(labels);
        java.util.Objects.requireNonNull(text, "text");
        java.util.Objects.requireNonNull(description, "description");
    }

    /** A model whose folder says nothing of what it is. */
    public LoadedModel(ModelFiles files, List<String> labels, PreprocessorConfig preprocessing,
                       ScoreFunction defaultFunction, Optional<TextTower> text) {
        this(files, labels, preprocessing, defaultFunction, text, Optional.empty());
    }

    /** A classifier. */
    public LoadedModel(ModelFiles files, List<String> labels, PreprocessorConfig preprocessing,
                       ScoreFunction defaultFunction) {
        this(files, labels, preprocessing, defaultFunction, Optional.empty());
    }

    /** The same model with this description. */
    public LoadedModel withDescription(Optional<String> newDescription) {
        return new LoadedModel(files, labels, preprocessing, defaultFunction, text, newDescription);
    }

    /** What the model does. */
    public Task task() {
        return text.isPresent() ? Task.ZERO_SHOT_IMAGE_CLASSIFICATION : Task.IMAGE_CLASSIFICATION;
    }

    /** The length of the embeddings /embed gives: the projection of a zero-shot model, else what the classifier reads. */
    public int embeddingDimensions() {
        return files.clip().map(clip -> clip.projectionDim()).orElse(files.config().embeddingSize());
    }

    /** Frees the tokenizer's native memory, if any. */
    public void closeText() {
        text.ifPresent(tower -> tower.tokenizer().close());
    }
}
