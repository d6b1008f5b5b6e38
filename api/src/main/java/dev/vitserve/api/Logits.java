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

    /** A copy of the logits of one image. */
    public float[] row(int image) {
        Objects.checkIndex(image, batchSize);
        return Arrays.copyOfRange(values, image * numLabels, (image + 1) * numLabels);
    }
}
