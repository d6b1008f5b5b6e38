package dev.vitserve.core.model;

import dev.vitserve.api.ModelFiles;
import dev.vitserve.core.image.PreprocessorConfig;
import dev.vitserve.core.inference.ScoreFunction;
import java.util.List;

/**
 * What vitserve knows about a model before any engine touches it.
 *
 * @param files the folder and the network's shape from config.json
 * @param labels class names by index, from {@code id2label}
 * @param preprocessing the settings of preprocessor_config.json
 * @param defaultFunction how scores are computed when a request does not say
 */
public record LoadedModel(ModelFiles files, List<String> labels, PreprocessorConfig preprocessing,
                          ScoreFunction defaultFunction) {

    public LoadedModel {
        labels = List.copyOf(labels);
    }
}
