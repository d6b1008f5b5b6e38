package dev.vitserve.core.explain;

import dev.vitserve.core.image.PreprocessorConfig;
import java.util.Arrays;

/**
 * Occlusion's masked tensors: one per grid cell, the cell set to the processor's mean colour as the tensor holds it
 * ({@code (mean - mean) / std = 0} when the processor normalizes, {@code mean} when it only rescales, else
 * {@code mean / rescale_factor}), everything else as the model saw it.
 */
final class Occlusion {

    private final float[] tensor;
    private final int channels;
    private final int height;
    private final int width;
    private final Grid grid;
    private final float[] fill;

    Occlusion(float[] tensor, int channels, int height, int width, Grid grid, PreprocessorConfig processor) {
        this.tensor = tensor;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.grid = grid;
        this.fill = meanInTensor(processor, channels);
    }

    /** The processor's mean colour in the tensor's units, per channel. */
    static float[] meanInTensor(PreprocessorConfig processor, int channels) {
        float[] mean = processor.imageMean();
        float[] fill = new float[channels];
        for (int c = 0; c < channels; c++) {
            float m = mean[Math.min(c, mean.length - 1)];
            fill[c] = processor.doNormalize() ? 0f
                    : processor.doRescale() ? m : (float) (m / processor.rescaleFactor());
        }
        return fill;
    }

    /** The tensor with cell {@code cell} (row-major) masked. */
    float[] masked(int cell) {
        int i = cell / grid.cols();
        int j = cell % grid.cols();
        int top = grid.rowStart(i, height);
        int bottom = grid.rowStart(i + 1, height);
        int left = grid.colStart(j, width);
        int right = grid.colStart(j + 1, width);
        float[] copy = tensor.clone();
        for (int c = 0; c < channels; c++) {
            for (int y = top; y < bottom; y++) {
                int row = (c * height + y) * width;
                Arrays.fill(copy, row + left, row + right, fill[c]);
            }
        }
        return copy;
    }
}
