package dev.vitserve.backend.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.ModelWeights;
import dev.vitserve.api.VitConfig;
import dev.vitserve.api.arch.Swin;
import java.util.ArrayList;
import java.util.List;

/**
 * Hugging Face's {@code SwinForImageClassification} (modeling_swin.py) built with DJL NDArray operations: the pixels
 * padded to whole patches, the Conv projection and its LayerNorm; per block, LayerNorm, the grid padded to whole
 * windows, rolled back by the shift, split into windows, attention inside each window plus the relative position bias
 * (and a shifted block's region mask, made once at load, {@link Swin#attentionBias}), the windows put back, rolled
 * forward, the padding cut; the MLP; patch merging between stages; the final LayerNorm and the mean of all tokens,
 * which is the embedding the classifier reads. Stateless and without autograd, as {@link VitNetwork}.
 */
final class SwinNetwork extends StatelessNetwork {

    /**
     * One block; the query rows of {@code qkvWeight} and {@code qkvBias} carry the attention scale; {@code bias} is
     * [windows or 1, heads, S, S]; {@code mergeNorm*} and {@code reduction} are set on a stage's last block when a
     * patch merging follows.
     */
    private record Block(Swin.Block shape, NDArray normBeforeWeight, NDArray normBeforeBias, NDArray qkvWeight,
                         NDArray qkvBias, NDArray bias, NDArray attentionOutWeight, NDArray attentionOutBias,
                         NDArray normAfterWeight, NDArray normAfterBias, NDArray upWeight, NDArray upBias,
                         NDArray downWeight, NDArray downBias, NDArray mergeNormWeight, NDArray mergeNormBias,
                         NDArray reduction) {
    }

    private static final String PREFIX = Swin.PREFIX;

    private final Swin swin;
    private final long patch;
    private final int imageHeight;
    private final int imageWidth;
    private final float eps;
    private final NDArray patchWeight;
    private final NDArray patchBias;
    private final NDArray embeddingNormWeight;
    private final NDArray embeddingNormBias;
    private final List<Block> blocks = new ArrayList<>();
    private final NDArray finalNormWeight;
    private final NDArray finalNormBias;
    private final NDArray classifierWeight;
    private final NDArray classifierBias;

    private SwinNetwork(WeightReader reader, VitConfig config) throws BackendException {
        super(reader.manager());
        this.swin = (Swin) config.architecture();
        this.patch = config.patchSize();
        this.imageHeight = config.imageHeight();
        this.imageWidth = config.imageWidth();
        this.eps = (float) config.layerNormEps();
        long dim = swin.embedDim();
        String embeddings = PREFIX + "embeddings.";
        patchWeight = reader.read(embeddings + "patch_embeddings.projection.weight", dim, config.numChannels(), patch,
                patch);
        patchBias = reader.read(embeddings + "patch_embeddings.projection.bias", dim);
        embeddingNormWeight = reader.read(embeddings + "norm.weight", dim);
        embeddingNormBias = reader.read(embeddings + "norm.bias", dim);
        List<Swin.Block> shapes;
        try {
            shapes = swin.blocks(config.imageHeight(), config.imageWidth(), config.patchSize());
        } catch (IllegalArgumentException e) {
            throw new BackendException(e.getMessage(), e);
        }
        for (int k = 0; k < shapes.size(); k++) {
            boolean merges = k + 1 < shapes.size() && shapes.get(k + 1).stage() != shapes.get(k).stage();
            blocks.add(block(reader, config, shapes.get(k), merges));
        }
        long features = swin.numFeatures();
        finalNormWeight = reader.read(PREFIX + "layernorm.weight", features);
        finalNormBias = reader.read(PREFIX + "layernorm.bias", features);
        classifierWeight = reader.read("classifier.weight", config.numLabels(), features);
        classifierBias = reader.read("classifier.bias", config.numLabels());
    }

    /** Reads the weights onto a device and builds the network, as {@link StatelessNetwork#build} says. */
    static SwinNetwork build(VitConfig config, ModelWeights weights, Device device) throws BackendException {
        return build(config, weights, device, manager -> new SwinNetwork(new WeightReader(weights, config, manager, PREFIX
                + "embeddings.*, " + PREFIX + "encoder.layers.N.blocks.M.*, " + PREFIX
                + "encoder.layers.N.downsample.*, " + PREFIX + "layernorm.*, classifier.*"), config));
    }

    private Block block(WeightReader reader, VitConfig config, Swin.Block shape, boolean merges) throws BackendException {
        String p = shape.prefix();
        String self = p + "attention.self.";
        long dim = shape.dim();
        float scale = (float) (1.0 / Math.sqrt((double) shape.dim() / shape.heads()));
        NDArray qkvWeight = fuse(reader.read(self + "query.weight", dim, dim).muli(scale),
                reader.read(self + "key.weight", dim, dim), reader.read(self + "value.weight", dim, dim));
        NDArray qkvBias = config.qkvBias()
                ? fuse(reader.read(self + "query.bias", dim).muli(scale), reader.read(self + "key.bias", dim),
                        reader.read(self + "value.bias", dim))
                : null;
        float[] table = reader.values(self + "relative_position_bias_table", swin.tableRows(), shape.heads());
        long area = (long) shape.window() * shape.window();
        NDArray bias = reader.create(self + "attention_bias", Swin.attentionBias(shape, table),
                shape.shift() > 0 ? shape.windows() : 1, shape.heads(), area, area);
        long mlp = swin.mlpWidth(shape.dim());
        String merge = PREFIX + "encoder.layers." + shape.stage() + ".downsample.";
        return new Block(shape, reader.read(p + "layernorm_before.weight", dim),
                reader.read(p + "layernorm_before.bias", dim), qkvWeight, qkvBias, bias,
                reader.read(p + "attention.output.dense.weight", dim, dim),
                reader.read(p + "attention.output.dense.bias", dim),
                reader.read(p + "layernorm_after.weight", dim), reader.read(p + "layernorm_after.bias", dim),
                reader.read(p + "intermediate.dense.weight", mlp, dim), reader.read(p + "intermediate.dense.bias", mlp),
                reader.read(p + "output.dense.weight", dim, mlp), reader.read(p + "output.dense.bias", dim),
                merges ? reader.read(merge + "norm.weight", 4 * dim) : null,
                merges ? reader.read(merge + "norm.bias", 4 * dim) : null,
                merges ? reader.read(merge + "reduction.weight", 2 * dim, 4 * dim) : null);
    }

    @Override
    NDList forward(NDArray pixels) {
        NDArray states = stage(() -> embed(pixels));
        for (Block block : blocks) {
            NDArray input = states;
            states = stage(() -> {
                NDArray output = block(input, block);
                return block.reduction() != null ? merge(output, block) : output;
            });
        }
        try (NDScope stage = new NDScope()) {
            long features = swin.numFeatures();
            NDArray normed = norm(states, finalNormWeight, finalNormBias, features, eps);
            NDArray embeddings = normed.mean(new int[] {1});
            NDArray logits = Linear.linear(embeddings, classifierWeight, classifierBias).singletonOrThrow();
            NDScope.unregister(logits, embeddings);
            return new NDList(logits, embeddings);
        }
    }

    private NDArray embed(NDArray pixels) {
        long n = pixels.getShape().get(0);
        long channels = pixels.getShape().get(1);
        long bottom = (patch - imageHeight % patch) % patch;
        long right = (patch - imageWidth % patch) % patch;
        NDArray padded = pixels;
        if (right > 0) {
            padded = padded.concat(pixels.getManager().zeros(new Shape(n, channels, imageHeight, right)), 3);
        }
        if (bottom > 0) {
            padded = padded.concat(pixels.getManager().zeros(new Shape(n, channels, bottom, imageWidth + right)), 2);
        }
        NDArray patches = Conv2d.conv2d(padded, patchWeight, patchBias, new Shape(patch, patch)).singletonOrThrow();
        NDArray tokens = patches.reshape(n, swin.embedDim(), -1).transpose(0, 2, 1);
        return norm(tokens, embeddingNormWeight, embeddingNormBias, swin.embedDim(), (float) Swin.DEFAULT_EPS);
    }

    private NDArray block(NDArray states, Block block) {
        Swin.Block s = block.shape();
        long n = states.getShape().get(0);
        long dim = s.dim();
        int ws = s.window();
        int ph = s.paddedHeight();
        int pw = s.paddedWidth();
        NDArray grid = norm(states, block.normBeforeWeight(), block.normBeforeBias(), dim, eps)
                .reshape(n, s.height(), s.width(), dim);
        grid = pad(grid, ph - s.height(), pw - s.width());
        if (s.shift() > 0) {
            grid = roll(roll(grid, -s.shift(), ph, 1), -s.shift(), pw, 2);
        }
        NDArray windows = grid.reshape(n, ph / ws, ws, pw / ws, ws, dim).transpose(0, 1, 3, 2, 4, 5)
                .reshape(-1, (long) ws * ws, dim);
        NDArray attended = attention(windows, block, n);
        NDArray back = attended.reshape(n, ph / ws, pw / ws, ws, ws, dim).transpose(0, 1, 3, 2, 4, 5)
                .reshape(n, ph, pw, dim);
        if (s.shift() > 0) {
            back = roll(roll(back, s.shift(), ph, 1), s.shift(), pw, 2);
        }
        if (ph > s.height() || pw > s.width()) {
            back = back.get(":, :" + s.height() + ", :" + s.width() + ", :");
        }
        NDArray residual = states.add(back.reshape(n, (long) s.height() * s.width(), dim));
        NDArray x = norm(residual, block.normAfterWeight(), block.normAfterBias(), dim, eps);
        NDArray up = Activation.gelu(Linear.linear(x, block.upWeight(), block.upBias()).singletonOrThrow());
        return residual.addi(Linear.linear(up, block.downWeight(), block.downBias()).singletonOrThrow());
    }

    /** Zeros added after the grid's rows and columns ([n, H, W, C]). */
    private static NDArray pad(NDArray grid, long bottom, long right) {
        Shape shape = grid.getShape();
        NDArray padded = grid;
        if (right > 0) {
            padded = padded.concat(grid.getManager().zeros(new Shape(shape.get(0), shape.get(1), right, shape.get(3))), 2);
        }
        if (bottom > 0) {
            padded = padded.concat(grid.getManager().zeros(
                    new Shape(shape.get(0), bottom, shape.get(2) + right, shape.get(3))), 1);
        }
        return padded;
    }

    /** {@code torch.roll} along one axis of [n, H, W, C]. */
    private static NDArray roll(NDArray x, int shift, int size, int axis) {
        int s = Math.floorMod(shift, size);
        if (s == 0) {
            return x;
        }
        String tail = axis == 1 ? ":, " + (size - s) + ":" : ":, :, " + (size - s) + ":";
        String head = axis == 1 ? ":, :" + (size - s) : ":, :, :" + (size - s);
        return x.get(tail).concat(x.get(head), axis);
    }

    /** Attention in each window [n * windows, S, dim] plus the block's bias, through the output projection. */
    private NDArray attention(NDArray windows, Block block, long n) {
        Swin.Block s = block.shape();
        long all = windows.getShape().get(0);
        long tokens = windows.getShape().get(1);
        long heads = s.heads();
        long dim = s.dim();
        long headSize = dim / heads;
        NDList qkv = Linear.linear(windows, block.qkvWeight(), block.qkvBias()).singletonOrThrow().split(3, 2);
        NDArray q = qkv.get(0).reshape(all, tokens, heads, headSize).transpose(0, 2, 1, 3);
        NDArray kT = qkv.get(1).reshape(all, tokens, heads, headSize).transpose(0, 2, 3, 1);
        NDArray v = qkv.get(2).reshape(all, tokens, heads, headSize).transpose(0, 2, 1, 3);
        NDArray scores = q.matMul(kT);
        // [n, windows, heads, S, S] plus the bias [windows or 1, heads, S, S], the same for every image
        scores = scores.reshape(n, all / n, heads, tokens, tokens).addi(block.bias());
        NDArray context = scores.reshape(all, heads, tokens, tokens).softmax(3).matMul(v);
        NDArray merged = context.transpose(0, 2, 1, 3).reshape(all, tokens, dim);
        return Linear.linear(merged, block.attentionOutWeight(), block.attentionOutBias()).singletonOrThrow();
    }

    /** Patch merging after a stage's last block: 2x2 neighbours side by side, LayerNorm, reduction without bias. */
    private NDArray merge(NDArray states, Block block) {
        Swin.Block s = block.shape();
        long n = states.getShape().get(0);
        long dim = s.dim();
        NDArray grid = pad(states.reshape(n, s.height(), s.width(), dim), s.height() % 2, s.width() % 2);
        NDArray merged = NDArrays.concat(new NDList(grid.get(":, 0::2, 0::2, :"), grid.get(":, 1::2, 0::2, :"),
                grid.get(":, 0::2, 1::2, :"), grid.get(":, 1::2, 1::2, :")), -1).reshape(n, -1, 4 * dim);
        NDArray normed = norm(merged, block.mergeNormWeight(), block.mergeNormBias(), 4 * dim, (float) Swin.DEFAULT_EPS);
        return Linear.linear(normed, block.reduction(), null).singletonOrThrow();
    }

    private static NDArray norm(NDArray input, NDArray weight, NDArray bias, long width, float eps) {
        return LayerNorm.layerNorm(input, new Shape(width), weight, bias, eps).singletonOrThrow();
    }
}
