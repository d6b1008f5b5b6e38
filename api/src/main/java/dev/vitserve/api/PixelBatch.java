package dev.vitserve.api;

import java.nio.FloatBuffer;
import java.util.Objects;

/**
 * A batch of preprocessed images in NCHW order, float32: the model's {@code pixel_values}.
 *
 * @param pixels {@code batchSize * channels * height * width} values from its position to its limit;
 *     a direct buffer in native order, which engines can read without copying
 */
public record PixelBatch(FloatBuffer pixels, int batchSize, int channels, int height, int width) {

    public PixelBatch {
        Objects.requireNonNull(pixels, "pixels");
        if (batchSize < 1 || channels < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException("empty batch shape " + batchSize + "x" + channels + "x" + height + "x" + width);
        }
        long expected = (long) batchSize * channels * height * width;
        if (pixels.remaining() != expected) {
            throw new IllegalArgumentException("batch " + batchSize + "x" + channels + "x" + height + "x" + width
                    + " needs " + expected + " floats, buffer holds " + pixels.remaining());
        }
    }

    /** The NCHW shape as engines want it. */
    public long[] shape() {
        return new long[] {batchSize, channels, height, width};
    }
}
