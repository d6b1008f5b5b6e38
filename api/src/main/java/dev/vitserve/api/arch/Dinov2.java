package dev.vitserve.api.arch;

import dev.vitserve.api.Architecture;

/**
 * Hugging Face's {@code Dinov2ForImageClassification} (modeling_dinov2.py) and
 * {@code Dinov2WithRegistersForImageClassification} (modeling_dinov2_with_registers.py): LayerScale after attention
 * and after the MLP, an MLP or a SwiGLU feed-forward ({@code use_swiglu_ffn}), register tokens after the class token
 * (with registers), position embeddings interpolated bicubically when the image is not the trained size, and the
 * classifier on the final-layernormed class token beside the mean of the patch tokens.
 *
 * @param registers {@code num_register_tokens} (0 without registers)
 * @param withRegisters whether the network is the with-registers one (its parameters are under
 *     {@code dinov2_with_registers.}, and its position interpolation is antialiased)
 * @param swiglu {@code use_swiglu_ffn}
 * @param trainedHeight {@code image_size} of config.json, which fixes the number of position embeddings
 * @param trainedWidth as {@code trainedHeight}
 */
public record Dinov2(int registers, boolean withRegisters, boolean swiglu, int trainedHeight, int trainedWidth)
        implements Architecture {

    public static final String CLASS_NAME = "Dinov2ForImageClassification";
    public static final String WITH_REGISTERS = "Dinov2WithRegistersForImageClassification";

    public Dinov2 {
        if (registers < 0 || (!withRegisters && registers != 0)) {
            throw new IllegalArgumentException("num_register_tokens must be 0 or more, and 0 without registers; got " + registers);
        }
    }

    @Override
    public String className() {
        return withRegisters ? WITH_REGISTERS : CLASS_NAME;
    }

    @Override
    public String modelType() {
        return withRegisters ? "dinov2_with_registers" : "dinov2";
    }

    /** The parameters' prefix: the base model's attribute name in Hugging Face's class. */
    public String prefix() {
        return withRegisters ? "dinov2_with_registers." : "dinov2.";
    }

    /** The class token beside the mean of the patch tokens. */
    @Override
    public int embeddingSize(int hiddenSize) {
        return 2 * hiddenSize;
    }

    @Override
    public boolean interpolatesPositions() {
        return true;
    }

    /**
     * The width of the SwiGLU feed-forward's hidden layer, as Hugging Face computes it from {@code hidden_size *
     * mlp_ratio}: two thirds of it, rounded up to a multiple of 8.
     */
    public static int swigluHidden(int mlpHidden) {
        return ((int) (mlpHidden * 2.0 / 3.0) + 7) / 8 * 8;
    }

    /**
     * The position embeddings for images of {@code height x width}, as Hugging Face's {@code interpolate_pos_encoding}
     * makes them from the trained table: the table itself when the image has as many patches as the table has
     * positions and is square; else the class token's row, then the patch rows laid out on their square grid and
     * resized bicubically to the image's grid (antialiased with registers, see {@link PositionInterpolation}).
     *
     * @param table {@code [1 + positions, hidden]}, the class token's row first
     * @return {@code [1 + (height / patch) * (width / patch), hidden]}
     */
    public float[] positionEmbeddings(float[] table, int hidden, int patch, int height, int width) {
        int positions = table.length / hidden - 1;
        int rows = height / patch;
        int columns = width / patch;
        if (rows * columns == positions && height == width) {
            return table;
        }
        int side = (int) Math.sqrt(positions);
        if (side * side != positions) {
            throw new IllegalArgumentException("the " + positions + " position embeddings do not make a square grid");
        }
        float[] patches = java.util.Arrays.copyOfRange(table, hidden, table.length);
        float[] resized = PositionInterpolation.bicubic(patches, hidden, side, side, rows, columns, withRegisters);
        float[] out = new float[hidden + resized.length];
        System.arraycopy(table, 0, out, 0, hidden);
        System.arraycopy(resized, 0, out, hidden, resized.length);
        return out;
    }
}
