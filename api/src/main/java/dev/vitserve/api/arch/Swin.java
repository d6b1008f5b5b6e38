package dev.vitserve.api.arch;

import dev.vitserve.api.Architecture;
import java.util.ArrayList;
import java.util.List;

/**
 * Hugging Face's {@code SwinForImageClassification} (modeling_swin.py): the image padded to whole patches, the Conv
 * patch projection and a LayerNorm; stages of pre-LN blocks whose attention works inside windows of
 * {@code window_size x window_size} patches with a relative position bias, every other block on windows shifted by
 * half a window (cyclic roll, with the mask that keeps the wrapped regions apart); between stages a patch merging
 * (2x2 neighbours side by side, LayerNorm, a linear reduction to twice the width); the final LayerNorm and the mean of
 * all tokens, which the classifier reads.
 *
 * <p>In {@link dev.vitserve.api.VitConfig} a Swin's {@code hiddenSize} is the width after the last stage (as
 * SwinConfig's {@code hidden_size}), {@code numLayers} the number of blocks and {@code numHeads} the last stage's
 * heads; the stages themselves are here.
 *
 * @param embedDim {@code embed_dim}, the width of the first stage
 * @param depths {@code depths}, blocks per stage
 * @param heads {@code num_heads}, attention heads per stage
 * @param windowSize {@code window_size}
 * @param mlpRatio {@code mlp_ratio}: each block's MLP is {@code int(mlp_ratio * width)} wide
 */
public record Swin(int embedDim, List<Integer> depths, List<Integer> heads, int windowSize, double mlpRatio)
        implements Architecture {

    public static final String CLASS_NAME = "SwinForImageClassification";
    public static final String PREFIX = "swin.";

    /** The eps of the patch embedding's and the patch merging's LayerNorms: PyTorch's default, not layer_norm_eps. */
    public static final double DEFAULT_EPS = 1e-5;

    public Swin {
        depths = List.copyOf(depths);
        heads = List.copyOf(heads);
        if (depths.size() != heads.size()) {
            throw new IllegalArgumentException("depths " + depths + " and num_heads " + heads + " must have one entry per"
                    + " stage");
        }
        if (embedDim < 1 || windowSize < 1 || !(mlpRatio > 0)) {
            throw new IllegalArgumentException("embed_dim, window_size and mlp_ratio must be positive");
        }
        for (int s = 0; s < depths.size(); s++) {
            if (depths.get(s) < 1 || heads.get(s) < 1 || width(embedDim, s) % heads.get(s) != 0) {
                throw new IllegalArgumentException("stage " + s + " has width " + width(embedDim, s) + ", depth "
                        + depths.get(s) + " and " + heads.get(s) + " heads: depths and num_heads must be positive and"
                        + " the width a multiple of the heads");
            }
        }
    }

    @Override
    public String className() {
        return CLASS_NAME;
    }

    @Override
    public String modelType() {
        return "swin";
    }

    @Override
    public boolean padsToWholePatches() {
        return true;
    }

    private static int width(int embedDim, int stage) {
        return embedDim << stage;
    }

    /** The width after the last stage, SwinConfig's {@code hidden_size}. */
    public int numFeatures() {
        return width(embedDim, depths.size() - 1);
    }

    /** One block: its stage, width, heads, the grid it works on, the window and the shift it uses. */
    public record Block(int stage, int index, int dim, int heads, int height, int width, int window, int shift) {

        /** The grid padded right and bottom to whole windows. */
        public int paddedHeight() {
            return (height + window - 1) / window * window;
        }

        public int paddedWidth() {
            return (width + window - 1) / window * window;
        }

        /** Windows per image. */
        public int windows() {
            return paddedHeight() / window * (paddedWidth() / window);
        }

        /** The prefix of its parameters, e.g. {@code swin.encoder.layers.0.blocks.1.}. */
        public String prefix() {
            return PREFIX + "encoder.layers." + stage + ".blocks." + index + ".";
        }
    }

    /**
     * Every block in order, for images of {@code height x width} with patches of {@code patch}: the first stage on the
     * grid of (padded) patches, each later one on the previous grid merged 2x2 ({@code ceil(side / 2)}); shift half a
     * window on odd blocks; a grid whose smaller side is the window is one window, unshifted.
     *
     * @throws IllegalArgumentException when a stage's grid is smaller than the window, which transformers' relative
     *     position bias cannot take either
     */
    public List<Block> blocks(int imageHeight, int imageWidth, int patch) {
        int h = (imageHeight + patch - 1) / patch;
        int w = (imageWidth + patch - 1) / patch;
        List<Block> blocks = new ArrayList<>();
        for (int s = 0; s < depths.size(); s++) {
            if (Math.min(h, w) < windowSize) {
                throw new IllegalArgumentException("stage " + s + " of " + CLASS_NAME + " works on a grid of " + h + "x"
                        + w + " patches, smaller than window_size " + windowSize + " (transformers cannot run it either);"
                        + " use a larger image_size or fewer stages");
            }
            boolean oneWindow = Math.min(h, w) <= windowSize;
            for (int b = 0; b < depths.get(s); b++) {
                int shift = oneWindow || b % 2 == 0 ? 0 : windowSize / 2;
                blocks.add(new Block(s, b, width(embedDim, s), heads.get(s), h, w, windowSize, shift));
            }
            if (s < depths.size() - 1) {
                h = (h + 1) / 2;
                w = (w + 1) / 2;
            }
        }
        return blocks;
    }

    /** The MLP width of a block of the given width: {@code int(mlp_ratio * width)}. */
    public int mlpWidth(int dim) {
        return (int) (mlpRatio * dim);
    }

    /** The relative position bias table's rows: {@code (2 window - 1)^2}. */
    public int tableRows() {
        return (2 * windowSize - 1) * (2 * windowSize - 1);
    }

    /**
     * What a block adds to its attention scores, {@code [windows or 1, heads, S, S]} with {@code S = window^2}: the
     * relative position bias looked up from the table ({@code [(2 window - 1)^2, heads]}) by the tokens' offset inside
     * the window, {@code (dy + window - 1) * (2 window - 1) + dx + window - 1}; for a shifted block plus, per window,
     * -100 between tokens of different regions of the rolled grid (the last window and the last shift rows and columns
     * being regions of their own), as transformers' attention mask.
     */
    public static float[] attentionBias(Block block, float[] table) {
        int ws = block.window();
        int area = ws * ws;
        int heads = block.heads();
        if (table.length != (2 * ws - 1) * (2 * ws - 1) * heads) {
            throw new IllegalArgumentException("a relative position bias table of window " + ws + " and " + heads
                    + " heads has " + (2 * ws - 1) * (2 * ws - 1) * heads + " values, got " + table.length);
        }
        float[] relative = new float[heads * area * area];
        for (int i = 0; i < area; i++) {
            for (int j = 0; j < area; j++) {
                int row = (i / ws - j / ws + ws - 1) * (2 * ws - 1) + (i % ws - j % ws + ws - 1);
                for (int h = 0; h < heads; h++) {
                    relative[(h * area + i) * area + j] = table[row * heads + h];
                }
            }
        }
        if (block.shift() == 0) {
            return relative;
        }
        int ph = block.paddedHeight();
        int pw = block.paddedWidth();
        int across = pw / ws;
        int windows = block.windows();
        float[] bias = new float[windows * heads * area * area];
        for (int win = 0; win < windows; win++) {
            int[] region = new int[area];
            for (int t = 0; t < area; t++) {
                int y = win / across * ws + t / ws;
                int x = win % across * ws + t % ws;
                region[t] = 3 * band(y, ph, ws, block.shift()) + band(x, pw, ws, block.shift());
            }
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < area; i++) {
                    for (int j = 0; j < area; j++) {
                        float mask = region[i] == region[j] ? 0f : -100f;
                        bias[((win * heads + h) * area + i) * area + j] = relative[(h * area + i) * area + j] + mask;
                    }
                }
            }
        }
        return bias;
    }

    /** Which of transformers' three slices {@code [0, -window)}, {@code [-window, -shift)}, {@code [-shift, end)} holds i. */
    private static int band(int i, int size, int window, int shift) {
        return i < size - window ? 0 : i < size - shift ? 1 : 2;
    }
}
