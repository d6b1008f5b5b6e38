package dev.vitserve.backend.onnx;

import static dev.vitserve.backend.onnx.OnnxNodes.in;
import static dev.vitserve.backend.onnx.OnnxNodes.integer;
import static dev.vitserve.backend.onnx.OnnxNodes.ints;
import static dev.vitserve.backend.onnx.OnnxNodes.real;

import dev.vitserve.api.BackendException;
import dev.vitserve.api.ModelWeights;
import dev.vitserve.api.VitConfig;
import dev.vitserve.api.arch.Swin;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * The ONNX network of a Hugging Face {@code SwinForImageClassification} (modeling_swin.py): the pixels padded to whole
 * patches, the Conv projection and its LayerNorm; per block, LayerNorm, the grid padded to whole windows, rolled back
 * by the shift, split into windows, {@code MultiHeadAttention} inside each window with the relative position bias (and
 * for a shifted block the region mask, both made once at build time, {@link Swin#attentionBias}) as
 * {@code attention_bias}, the windows put back, rolled forward, the padding cut; the MLP; patch merging between stages;
 * the final LayerNorm and the mean of all tokens into the classifier.
 */
final class SwinGraphBuilder extends EncoderGraphBuilder {

    private static final String PREFIX = Swin.PREFIX;

    private final Swin swin;

    SwinGraphBuilder(VitConfig config, ModelWeights weights, Int8WeightRange int8) {
        super(config, weights, int8);
        this.swin = (Swin) config.architecture();
    }

    /** Swin's tokens attend inside (shifted) windows only, and merge between stages: no rollout over the image. */
    @Override
    protected boolean rollsOut() {
        return false;
    }

    @Override
    protected String basePrefix() {
        return PREFIX;
    }

    @Override
    protected void network() throws BackendException {
        pixelInput();
        List<Swin.Block> blocks;
        try {
            blocks = swin.blocks(config.imageHeight(), config.imageWidth(), config.patchSize());
        } catch (IllegalArgumentException e) {
            throw new BackendException(e.getMessage(), e);
        }
        String h = embeddings();
        for (int k = 0; k < blocks.size(); k++) {
            Swin.Block block = blocks.get(k);
            h = block(block, h);
            boolean lastOfStage = k + 1 == blocks.size() || blocks.get(k + 1).stage() != block.stage();
            if (lastOfStage && k + 1 < blocks.size()) {
                h = merge(PREFIX + "encoder.layers." + block.stage() + ".downsample.", block, h);
            }
        }
        int features = swin.numFeatures();
        String normed = norm(PREFIX + "layernorm", h, features, config.layerNormEps());
        String pooled = g.op("ReduceMean", in(normed), ints("axes", 1), integer("keepdims", 0));
        outputs(pooled, classifier("classifier", pooled, features));
    }

    /** The pixels padded right and bottom to whole patches, the projection, tokens [batch, patches, embed_dim], LayerNorm. */
    private String embeddings() throws BackendException {
        int dim = swin.embedDim();
        int patch = config.patchSize();
        String pixels = OnnxSignature.PIXEL_INPUT;
        int bottom = (patch - config.imageHeight() % patch) % patch;
        int right = (patch - config.imageWidth() % patch) % patch;
        if (bottom > 0 || right > 0) {
            pixels = g.op("Pad", in(pixels, g.int64s(0, 0, 0, 0, 0, 0, bottom, right)));
        }
        String projection = PREFIX + "embeddings.patch_embeddings.projection";
        String conv = g.op("Conv", in(pixels, weight(projection + ".weight", dim, config.numChannels(), patch, patch),
                weight(projection + ".bias", dim)), ints("kernel_shape", patch, patch), ints("strides", patch, patch));
        String tokens = g.op("Transpose", in(g.op("Reshape", in(conv, g.int64s(0, dim, -1)))), ints("perm", 0, 2, 1));
        return norm(PREFIX + "embeddings.norm", tokens, dim, Swin.DEFAULT_EPS);
    }

    /** One block: shifted-window attention added to the residual, then the MLP. */
    private String block(Swin.Block block, String h) throws BackendException {
        String p = block.prefix();
        int dim = block.dim();
        int ws = block.window();
        int ph = block.paddedHeight();
        int pw = block.paddedWidth();
        String grid = g.op("Reshape", in(norm(p + "layernorm_before", h, dim, config.layerNormEps()),
                g.int64s(0, block.height(), block.width(), dim)));
        if (ph > block.height() || pw > block.width()) {
            grid = g.op("Pad", in(grid, g.int64s(0, 0, 0, 0, 0, ph - block.height(), pw - block.width(), 0)));
        }
        if (block.shift() > 0) {
            grid = roll(grid, -block.shift(), ph, pw);
        }
        String windows = g.op("Reshape", in(g.op("Transpose", in(g.op("Reshape", in(grid,
                g.int64s(0, ph / ws, ws, pw / ws, ws, dim)))), ints("perm", 0, 1, 3, 2, 4, 5)),
                g.int64s(-1, (long) ws * ws, dim)));
        String attended = windowAttention(block, windows);
        String back = g.op("Reshape", in(g.op("Transpose", in(g.op("Reshape", in(attended,
                g.int64s(-1, ph / ws, pw / ws, ws, ws, dim)))), ints("perm", 0, 1, 3, 2, 4, 5)),
                g.int64s(-1, ph, pw, dim)));
        if (block.shift() > 0) {
            back = roll(back, block.shift(), ph, pw);
        }
        if (ph > block.height() || pw > block.width()) {
            back = g.op("Slice", in(back, g.int64s(0, 0), g.int64s(block.height(), block.width()), g.int64s(1, 2)));
        }
        String tokens = g.op("Reshape", in(back, g.int64s(-1, (long) block.height() * block.width(), dim)));
        String residual = g.op("Add", in(h, tokens));
        int mlp = swin.mlpWidth(dim);
        String up = encoderLinear(p + "intermediate.dense", norm(p + "layernorm_after", residual, dim,
                config.layerNormEps()), mlp, dim, true);
        return g.op("Add", in(residual, encoderLinear(p + "output.dense", gelu(up), dim, mlp, true)));
    }

    /** {@code torch.roll} of [batch, H, W, C] by {@code shift} along H and W. */
    private String roll(String grid, int shift, int height, int width) {
        String rows = rollAxis(grid, shift, height, 1);
        return rollAxis(rows, shift, width, 2);
    }

    private String rollAxis(String x, int shift, int size, int axis) {
        int s = Math.floorMod(shift, size);
        if (s == 0) {
            return x;
        }
        // rolled by s: the last s entries first
        String tail = g.op("Slice", in(x, g.int64s(size - s), g.int64s(size), g.int64s(axis)));
        String head = g.op("Slice", in(x, g.int64s(0), g.int64s(size - s), g.int64s(axis)));
        return g.op("Concat", in(tail, head), integer("axis", axis));
    }

    /** Attention in each window [batch * windows, S, dim], with the block's bias, through the output projection. */
    private String windowAttention(Swin.Block block, String x) throws BackendException {
        String self = block.prefix() + "attention.self.";
        int dim = block.dim();
        String[] qkv;
        if (int8 != null) {
            qkv = quantizedLinear(self + "query_key_value", List.of(self + "query", self + "key", self + "value"), x,
                    List.of(dim, dim, dim), dim, config.qkvBias());
        } else {
            qkv = new String[] {linear(self + "query", x, dim, dim, config.qkvBias()),
                linear(self + "key", x, dim, dim, config.qkvBias()),
                linear(self + "value", x, dim, dim, config.qkvBias())};
        }
        FloatBuffer table = floats(self + "relative_position_bias_table", swin.tableRows(), block.heads());
        float[] values = new float[table.remaining()];
        table.duplicate().get(values);
        float[] bias = Swin.attentionBias(block, values);
        long area = (long) block.window() * block.window();
        long windows = block.shift() > 0 ? block.windows() : 1;
        FloatBuffer buffer = ByteBuffer.allocateDirect(bias.length * Float.BYTES).order(ByteOrder.nativeOrder())
                .asFloatBuffer().put(bias).flip();
        String attentionBias = supply(self + "attention_bias", VitGraph.Weight.floats(buffer,
                new long[] {windows, block.heads(), area, area}));
        if (windows > 1) {
            // one bias per window, the same for every image: [batch * windows, heads, S, S], image-major
            String batch = g.op("Shape", in(OnnxSignature.PIXEL_INPUT), integer("end", 1));
            attentionBias = g.op("Tile", in(attentionBias, g.op("Concat", in(batch, g.int64s(1, 1, 1)),
                    integer("axis", 0))));
        }
        String context = g.opIn(OnnxNodes.MICROSOFT, "MultiHeadAttention", in(qkv[0], qkv[1], qkv[2], "", "",
                attentionBias), integer("num_heads", block.heads()),
                real("scale", (float) (1.0 / Math.sqrt((double) dim / block.heads()))));
        return encoderLinear(block.prefix() + "attention.output.dense", context, dim, dim, true);
    }

    /** Patch merging: 2x2 neighbours of the (evenly padded) grid side by side, LayerNorm, reduction without bias. */
    private String merge(String p, Swin.Block last, String h) throws BackendException {
        int dim = last.dim();
        int height = last.height();
        int width = last.width();
        String grid = g.op("Reshape", in(h, g.int64s(0, height, width, dim)));
        if (height % 2 == 1 || width % 2 == 1) {
            grid = g.op("Pad", in(grid, g.int64s(0, 0, 0, 0, 0, height % 2, width % 2, 0)));
        }
        long big = Integer.MAX_VALUE;
        String[] parts = new String[4];
        int[][] starts = {{0, 0}, {1, 0}, {0, 1}, {1, 1}};
        for (int k = 0; k < 4; k++) {
            parts[k] = g.op("Slice", in(grid, g.int64s(starts[k][0], starts[k][1]), g.int64s(big, big), g.int64s(1, 2),
                    g.int64s(2, 2)));
        }
        String merged = g.op("Reshape", in(g.op("Concat", in(parts), integer("axis", -1)), g.int64s(0, -1, 4L * dim)));
        return encoderLinear(p + "reduction", norm(p + "norm", merged, 4 * dim, Swin.DEFAULT_EPS), 2 * dim, 4 * dim,
                false);
    }

    private String norm(String name, String x, int width, double eps) throws BackendException {
        return g.op("LayerNormalization", in(x, weight(name + ".weight", width), weight(name + ".bias", width)),
                integer("axis", -1), real("epsilon", (float) eps));
    }
}
