package dev.vitserve.api;

import java.util.Arrays;
import java.util.Objects;

/**
 * The raw classifier outputs for a batch: {@code batchSize} rows of {@code numLabels} values and,
 * when the backend gives them from the same run, each image's embedding: the vector the classifier
 * reads (the final-layernormed class token, {@code hiddenSize} values), so that
 * {@code logits = embedding . W^T + b} with the classifier's weight and bias.
 *
 * @param values row-major, {@code batchSize * numLabels} long
 * @param embeddings row-major, {@code batchSize * hiddenSize} long, or null when the network gives none
 * @param hiddenSize the length of one embedding, 0 without embeddings
 * @param rollout row-major, {@code batchSize * patches} long: each image's attention rollout, the class token's row
 *     of the product of every layer's head-averaged attention plus the identity (rows renormalized), over the patch
 *     tokens only, in the patch grid's row-major order; null when the run was not asked for it
 * @param patches the length of one image's rollout, 0 without it
 */
public record Logits(float[] values, int batchSize, int numLabels, float[] embeddings, int hiddenSize, float[] rollout,
                     int patches) {

    public Logits {
        Objects.requireNonNull(values, "values");
        if ((long) batchSize * numLabels != values.length) {
            throw new IllegalArgumentException(values.length + " logits do not form " + batchSize + " rows of " + numLabels);
        }
        if (embeddings != null && (hiddenSize < 1 || (long) batchSize * hiddenSize != embeddings.length)) {
            throw new IllegalArgumentException(embeddings.length + " embedding values do not form " + batchSize
                    + " rows of " + hiddenSize);
        }
        if (rollout != null && (patches < 1 || (long) batchSize * patches != rollout.length)) {
            throw new IllegalArgumentException(rollout.length + " rollout values do not form " + batchSize
                    + " rows of " + patches);
        }
    }

    /** Logits and embeddings without a rollout. */
    public Logits(float[] values, int batchSize, int numLabels, float[] embeddings, int hiddenSize) {
        this(values, batchSize, numLabels, embeddings, hiddenSize, null, 0);
    }

    /** Logits without embeddings. */
    public Logits(float[] values, int batchSize, int numLabels) {
        this(values, batchSize, numLabels, null, 0, null, 0);
    }

    /** How alike two rows of logits are: their cosine similarity, 1 for the same direction. */
    public static double cosineSimilarity(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("rows of " + a.length + " and " + b.length + " logits");
        }
        double dot = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            aa += (double) a[i] * a[i];
            bb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(aa * bb);
    }

    /** A copy of the logits of one image. */
    public float[] row(int image) {
        Objects.checkIndex(image, batchSize);
        return Arrays.copyOfRange(values, image * numLabels, (image + 1) * numLabels);
    }

    /** Whether the run gave embeddings. */
    public boolean hasEmbeddings() {
        return embeddings != null;
    }

    /** A copy of the embedding of one image, or null when the run gave none. */
    public float[] embedding(int image) {
        Objects.checkIndex(image, batchSize);
        return embeddings == null ? null
                : Arrays.copyOfRange(embeddings, image * hiddenSize, (image + 1) * hiddenSize);
    }

    /** A copy of the attention rollout of one image over its patches, or null when the run gave none. */
    public float[] rollout(int image) {
        Objects.checkIndex(image, batchSize);
        return rollout == null ? null : Arrays.copyOfRange(rollout, image * patches, (image + 1) * patches);
    }
}
