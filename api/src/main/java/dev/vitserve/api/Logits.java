package dev.vitserve.api;

import java.util.Arrays;
import java.util.Objects;

/**
 * The raw classifier outputs for a batch: {@code batchSize} rows of {@code numLabels} values.
 *
 * @param values row-major, {@code batchSize * numLabels} long
 */
public record Logits(float[] values, int batchSize, int numLabels) {

    public Logits {
        Objects.requireNonNull(values, "values");
        if ((long) batchSize * numLabels != values.length) {
            throw new IllegalArgumentException(values.length + " logits do not form " + batchSize + " rows of " + numLabels);
        }
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
}
