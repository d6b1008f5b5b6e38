package dev.vitserve.core.inference;

/**
 * The logits of one image and what it cost.
 *
 * @param logits one value per label
 * @param queueMs time spent waiting for the engine
 * @param inferenceMs time the engine took for the whole batch this image was in
 * @param batchSize how many images shared that run
 */
public record InferenceResult(float[] logits, double queueMs, double inferenceMs, int batchSize) {
}
