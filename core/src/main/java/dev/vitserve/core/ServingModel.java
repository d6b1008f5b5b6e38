package dev.vitserve.core;

import dev.vitserve.api.Backend;
import dev.vitserve.core.inference.ClassificationPipeline;
import dev.vitserve.core.inference.InferenceScheduler;
import dev.vitserve.core.model.LoadedModel;

/**
 * A model that is loaded and answering: what it is, the engine running it, and the path an
 * image takes through it.
 *
 * @param backendId the id the backend was chosen by, e.g. {@code onnx}
 */
public record ServingModel(LoadedModel model, String backendId, Backend backend, InferenceScheduler scheduler,
                           ClassificationPipeline pipeline) {
}
