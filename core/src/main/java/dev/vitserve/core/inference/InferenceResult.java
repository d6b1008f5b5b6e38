package dev.vitserve.core.inference;

/**
 * The logits of one image, its embedding when the engine gives one, and what it cost.
 *
 * @param logits one value per label
 * @param queueMs time spent waiting for the engine
 * @param inferenceMs time the engine took for the whole batch this image was in
 * @param batchSize how many images shared that run
 * @param embedding the final-layernormed class token the classifier read ({@code hidden_size} values), from the
 *     same run; null when the model's engine gives none ({@code Backend.embeds()} is false)
 * @param rollout the attention rollout over the patches from the same run (row-major over the patch grid), or null
 *     when it was not asked for
 */
public record InferenceResult(float[] logits, double queueMs, double inferenceMs, int batchSize, float[] embedding,
                              float[] rollout) {

    /** A result without a rollout. */
    public InferenceResult(float[] logits, double queueMs, double inferenceMs, int batchSize, float[] embedding) {
        this(logits, queueMs, inferenceMs, batchSize, embedding, null);
    }
}
