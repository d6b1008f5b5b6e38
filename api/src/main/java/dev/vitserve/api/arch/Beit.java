package dev.vitserve.api.arch;

import dev.vitserve.api.Architecture;

/**
 * Hugging Face's {@code BeitForImageClassification} (modeling_beit.py): a pre-LN ViT encoder whose attention has a
 * query and a value bias but no key bias, and may add a learned relative position bias per head to the attention
 * scores (one table per layer, {@code use_relative_position_bias}, or one shared by all layers,
 * {@code use_shared_relative_position_bias}; both when both are set); LayerScale ({@code lambda_1}, {@code lambda_2})
 * after the attention and after the MLP when {@code layer_scale_init_value > 0}; absolute position embeddings only
 * with {@code use_absolute_position_embeddings}. The classifier reads, with {@code use_mean_pooling}, the pooler's
 * LayerNorm of the mean of the patch tokens, else the class token through the final LayerNorm.
 *
 * <p>The network takes images of its {@code image_size} only (Hugging Face's pipeline does not interpolate BEiT's
 * positions), on a square grid of patches when there is a relative position bias: Hugging Face resizes the bias table
 * on a transposed grid, which is the identity only when the grid is square.
 *
 * @param relativePositionBias {@code use_relative_position_bias}: a table in every layer
 * @param sharedRelativePositionBias {@code use_shared_relative_position_bias}: one table in the encoder
 * @param absolutePositions {@code use_absolute_position_embeddings}
 * @param layerScale whether {@code layer_scale_init_value > 0}, so that the layers have {@code lambda_1}, {@code lambda_2}
 * @param meanPooling {@code use_mean_pooling}
 */
public record Beit(boolean relativePositionBias, boolean sharedRelativePositionBias, boolean absolutePositions,
                   boolean layerScale, boolean meanPooling) implements Architecture {

    public static final String CLASS_NAME = "BeitForImageClassification";
    public static final String PREFIX = "beit.";

    @Override
    public String className() {
        return CLASS_NAME;
    }

    @Override
    public String modelType() {
        return "beit";
    }

    /** The number of rows of a relative position bias table for a grid of patches. */
    public static int relativeDistances(int rows, int columns) {
        return (2 * rows - 1) * (2 * columns - 1) + 3;
    }

    /**
     * Hugging Face's relative position index for a grid of {@code rows x columns} patches behind the class token:
     * for tokens {@code i, j} (0 is the class token, then the patches row by row), the row of the bias table that
     * {@code i} attending to {@code j} reads. Patch to patch by their offset, {@code (dy + rows - 1) * (2 columns - 1)
     * + (dx + columns - 1)}; then class token to patch, patch to class token, class token to itself as the last three
     * rows.
     *
     * @return {@code [tokens * tokens]}, row-major
     */
    public static int[] relativePositionIndex(int rows, int columns) {
        int patches = rows * columns;
        int tokens = patches + 1;
        int distances = relativeDistances(rows, columns);
        int[] index = new int[tokens * tokens];
        for (int i = 0; i < patches; i++) {
            for (int j = 0; j < patches; j++) {
                int dy = i / columns - j / columns + rows - 1;
                int dx = i % columns - j % columns + columns - 1;
                index[(i + 1) * tokens + j + 1] = dy * (2 * columns - 1) + dx;
            }
        }
        for (int j = 0; j < tokens; j++) {
            index[j] = distances - 3;
            index[j * tokens] = distances - 2;
        }
        index[0] = distances - 1;
        return index;
    }

    /**
     * The bias the attention scores get from a table: {@code [heads, tokens, tokens]}, {@code bias[h][i][j] =
     * table[index[i][j]][h]}.
     *
     * @param table {@code [relativeDistances(rows, columns), heads]} as stored
     */
    public static float[] relativePositionBias(float[] table, int heads, int rows, int columns) {
        int tokens = rows * columns + 1;
        if (table.length != (long) relativeDistances(rows, columns) * heads) {
            throw new IllegalArgumentException("a relative position bias table for " + rows + "x" + columns
                    + " patches and " + heads + " heads has " + (long) relativeDistances(rows, columns) * heads
                    + " values, got " + table.length);
        }
        int[] index = relativePositionIndex(rows, columns);
        float[] bias = new float[heads * tokens * tokens];
        for (int h = 0; h < heads; h++) {
            for (int k = 0; k < tokens * tokens; k++) {
                bias[h * tokens * tokens + k] = table[index[k] * heads + h];
            }
        }
        return bias;
    }
}
