package dev.vitserve.backend.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;

/**
 * The attention rollout (Abnar and Zuidema 2020) of one forward pass, gathered layer by layer: each layer's attention
 * probabilities averaged over the heads, A; {@code A' = (A + I) / 2} (A's rows sum to 1: A plus the identity, rows
 * renormalized); the rollout so far multiplied by it from the left. Made for one call, so the network stays stateless;
 * its arrays belong to the call's manager.
 */
final class AttentionRollout {

    private final long patches;
    /** The product so far, [N, queries, tokens], or null before the first layer. */
    private NDArray product;

    /** A rollout whose answer is over the last {@code patches} tokens (the patch tokens). */
    AttentionRollout(long patches) {
        this.patches = patches;
    }

    /**
     * Multiplies in one layer.
     *
     * @param probabilities [N, heads, queries, tokens]: the softmax of the scores; queries may be the first few tokens
     *     only (a last layer computing just the tokens the heads read), whose rows of A' are then the first rows
     */
    void add(NDArray probabilities) {
        long queries = probabilities.getShape().get(2);
        long tokens = probabilities.getShape().get(3);
        NDArray averaged = probabilities.mean(new int[] {1});
        try (NDArray identity = probabilities.getManager().eye((int) queries, (int) tokens, 0, DataType.FLOAT32)) {
            NDArray step = averaged.addi(identity).muli(0.5f);
            NDArray next = product == null ? step : step.matMul(product);
            // the stage's scope would close it with the layer's other arrays
            NDScope.unregister(next);
            if (product != null) {
                product.close();
            }
            product = next;
        }
    }

    /** The class token's row over the patch tokens, [N, patches]. */
    NDArray classRow() {
        long tokens = product.getShape().get(2);
        long n = product.getShape().get(0);
        return product.get(":, 0, " + (tokens - patches) + ":").reshape(n, patches);
    }
}
