package dev.vitserve.backend.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
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
import dev.vitserve.api.arch.Beit;
import java.util.ArrayList;
import java.util.List;

/**
 * Hugging Face's {@code BeitForImageClassification} (modeling_beit.py) built with DJL NDArray operations: class token
 * and patches, plus the absolute position embeddings when there are any; pre-LN layers whose attention has query and
 * value biases but no key bias and adds the relative position bias (the layer's, the shared one, or both, looked up
 * from their tables once at load, {@link Beit#relativePositionBias}) to the scores; LayerScale after the attention and
 * the MLP; then the pooler's LayerNorm of the mean of the patch tokens (mean pooling) or the class token through the
 * final LayerNorm, which is the embedding the classifier reads. Stateless and without autograd, as {@link VitNetwork}.
 */
final class BeitNetwork extends StatelessNetwork {

    /**
     * One layer; the query rows of {@code qkvWeight} and {@code qkvBias} carry the attention scale, the key rows of
     * {@code qkvBias} are 0; {@code bias} is the layer's attention bias [1, heads, tokens, tokens] or null; the
     * lambdas are null without LayerScale.
     */
    private record Layer(NDArray normBeforeWeight, NDArray normBeforeBias, NDArray qkvWeight, NDArray qkvBias,
                         NDArray bias, NDArray attentionOutWeight, NDArray attentionOutBias, NDArray lambda1,
                         NDArray normAfterWeight, NDArray normAfterBias, NDArray upWeight, NDArray upBias,
                         NDArray downWeight, NDArray downBias, NDArray lambda2) {
    }

    private static final String PREFIX = Beit.PREFIX;

    private final Beit beit;
    private final long hidden;
    private final long heads;
    private final long headSize;
    private final long patch;
    private final int rows;
    private final int columns;
    private final float eps;
    /** The patch tokens, last in the sequence: what a rollout is over. */
    private final long patches;
    private final NDArray patchWeight;
    private final NDArray patchBias;
    /** The class token (plus its position embedding), {@code [1, 1, hidden]}. */
    private final NDArray classToken;
    /** The patches' position embeddings {@code [1, patches, hidden]}, or null without absolute positions. */
    private final NDArray patchPositions;
    private final List<Layer> layers = new ArrayList<>();
    private final NDArray finalNormWeight;
    private final NDArray finalNormBias;
    private final NDArray classifierWeight;
    private final NDArray classifierBias;

    private BeitNetwork(WeightReader reader, VitConfig config) throws BackendException {
        super(reader.manager());
        this.beit = (Beit) config.architecture();
        this.hidden = config.hiddenSize();
        this.heads = config.numHeads();
        this.headSize = config.headSize();
        this.patch = config.patchSize();
        this.rows = config.imageHeight() / config.patchSize();
        this.columns = config.imageWidth() / config.patchSize();
        this.eps = (float) config.layerNormEps();
        this.patches = config.numPatches();
        String embeddings = PREFIX + "embeddings.";
        patchWeight = reader.read(embeddings + "patch_embeddings.projection.weight", hidden, config.numChannels(),
                patch, patch);
        patchBias = reader.read(embeddings + "patch_embeddings.projection.bias", hidden);
        NDArray token = reader.read(embeddings + "cls_token", 1, 1, hidden);
        if (beit.absolutePositions()) {
            NDArray all = reader.read(embeddings + "position_embeddings", 1, config.numPatches() + 1L, hidden);
            try (NDArray classPosition = all.get(":, :1, :")) {
                classToken = token.addi(classPosition);
            }
            patchPositions = all.get(":, 1:, :");
            all.close();
        } else {
            classToken = token;
            patchPositions = null;
        }
        float[] shared = beit.sharedRelativePositionBias()
                ? bias(reader, PREFIX + "encoder.relative_position_bias.relative_position_bias_table") : null;
        NDArray sharedBias = shared != null && !beit.relativePositionBias()
                ? reader.create(PREFIX + "encoder.relative_position_bias", shared, attentionBiasShape()) : null;
        for (int i = 0; i < config.numLayers(); i++) {
            layers.add(layer(reader, config, PREFIX + "encoder.layer." + i + ".", shared, sharedBias));
        }
        String finalNorm = beit.meanPooling() ? PREFIX + "pooler.layernorm" : PREFIX + "layernorm";
        finalNormWeight = reader.read(finalNorm + ".weight", hidden);
        finalNormBias = reader.read(finalNorm + ".bias", hidden);
        classifierWeight = reader.read("classifier.weight", config.numLabels(), hidden);
        classifierBias = reader.read("classifier.bias", config.numLabels());
    }

    /** Reads the weights onto a device and builds the network, as {@link StatelessNetwork#build} says. */
    static BeitNetwork build(VitConfig config, ModelWeights weights, Device device) throws BackendException {
        return build(config, weights, device, manager -> new BeitNetwork(new WeightReader(weights, config, manager, PREFIX
                + "embeddings.*, " + PREFIX + "encoder.*, " + PREFIX + "layernorm.* or " + PREFIX
                + "pooler.layernorm.*, classifier.*"), config));
    }

    private long[] attentionBiasShape() {
        long tokens = (long) rows * columns + 1;
        return new long[] {1, heads, tokens, tokens};
    }

    private float[] bias(WeightReader reader, String table) throws BackendException {
        return Beit.relativePositionBias(reader.values(table, Beit.relativeDistances(rows, columns), heads),
                (int) heads, rows, columns);
    }

    private Layer layer(WeightReader reader, VitConfig config, String prefix, float[] shared, NDArray sharedBias)
            throws BackendException {
        String attention = prefix + "attention.attention.";
        float scale = (float) (1.0 / Math.sqrt(config.headSize()));
        NDArray qkvWeight = fuse(reader.read(attention + "query.weight", hidden, hidden).muli(scale),
                reader.read(attention + "key.weight", hidden, hidden), reader.read(attention + "value.weight", hidden, hidden));
        NDArray qkvBias = fuse(reader.read(attention + "query.bias", hidden).muli(scale),
                manager().zeros(new Shape(hidden)), reader.read(attention + "value.bias", hidden));
        NDArray bias = sharedBias;
        if (beit.relativePositionBias()) {
            float[] own = bias(reader, attention + "relative_position_bias.relative_position_bias_table");
            if (shared != null) {
                // HF adds the layer's bias, then the shared one: summed once here
                for (int i = 0; i < own.length; i++) {
                    own[i] += shared[i];
                }
            }
            bias = reader.create(attention + "relative_position_bias", own, attentionBiasShape());
        }
        long mlp = config.intermediateSize();
        return new Layer(reader.read(prefix + "layernorm_before.weight", hidden),
                reader.read(prefix + "layernorm_before.bias", hidden), qkvWeight, qkvBias, bias,
                reader.read(prefix + "attention.output.dense.weight", hidden, hidden),
                reader.read(prefix + "attention.output.dense.bias", hidden),
                beit.layerScale() ? reader.read(prefix + "lambda_1", hidden) : null,
                reader.read(prefix + "layernorm_after.weight", hidden), reader.read(prefix + "layernorm_after.bias", hidden),
                reader.read(prefix + "intermediate.dense.weight", mlp, hidden),
                reader.read(prefix + "intermediate.dense.bias", mlp),
                reader.read(prefix + "output.dense.weight", hidden, mlp), reader.read(prefix + "output.dense.bias", hidden),
                beit.layerScale() ? reader.read(prefix + "lambda_2", hidden) : null);
    }

    @Override
    long patches() {
        return patches;
    }

    @Override
    NDList forward(NDArray pixels) {
        return forward(pixels, null);
    }

    @Override
    NDList forward(NDArray pixels, AttentionRollout rollout) {
        NDArray states = stage(() -> embed(pixels));
        for (Layer layer : layers) {
            NDArray input = states;
            states = stage(() -> encoderLayer(input, layer, rollout));
        }
        try (NDScope stage = new NDScope()) {
            long n = states.getShape().get(0);
            NDArray pooled = beit.meanPooling() ? states.get(":, 1:, :").mean(new int[] {1}) : states.get(":, 0, :");
            NDArray embeddings = norm(pooled.reshape(n, hidden), finalNormWeight, finalNormBias);
            NDArray logits = Linear.linear(embeddings, classifierWeight, classifierBias).singletonOrThrow();
            NDScope.unregister(logits, embeddings);
            return new NDList(logits, embeddings);
        }
    }

    private NDArray embed(NDArray pixels) {
        long n = pixels.getShape().get(0);
        NDArray patches = Conv2d.conv2d(pixels, patchWeight, patchBias, new Shape(patch, patch)).singletonOrThrow();
        NDArray tokens = patches.reshape(n, hidden, -1).transpose(0, 2, 1);
        if (patchPositions != null) {
            tokens = tokens.add(patchPositions);
        }
        NDArray front = pixels.getManager().zeros(new Shape(n, 1, hidden)).addi(classToken);
        return front.concat(tokens, 1);
    }

    private NDArray encoderLayer(NDArray states, Layer layer, AttentionRollout rollout) {
        NDArray attended = attention(norm(states, layer.normBeforeWeight(), layer.normBeforeBias()), layer, rollout);
        if (layer.lambda1() != null) {
            attended = attended.muli(layer.lambda1());
        }
        NDArray residual = states.addi(attended);
        NDArray x = norm(residual, layer.normAfterWeight(), layer.normAfterBias());
        NDArray up = Activation.gelu(Linear.linear(x, layer.upWeight(), layer.upBias()).singletonOrThrow());
        NDArray down = Linear.linear(up, layer.downWeight(), layer.downBias()).singletonOrThrow();
        if (layer.lambda2() != null) {
            down = down.muli(layer.lambda2());
        }
        return residual.addi(down);
    }

    private NDArray attention(NDArray normed, Layer layer, AttentionRollout rollout) {
        long n = normed.getShape().get(0);
        long tokens = normed.getShape().get(1);
        NDList qkv = Linear.linear(normed, layer.qkvWeight(), layer.qkvBias()).singletonOrThrow().split(3, 2);
        NDArray q = qkv.get(0).reshape(n, tokens, heads, headSize).transpose(0, 2, 1, 3);
        NDArray kT = qkv.get(1).reshape(n, tokens, heads, headSize).transpose(0, 2, 3, 1);
        NDArray v = qkv.get(2).reshape(n, tokens, heads, headSize).transpose(0, 2, 1, 3);
        NDArray scores = q.matMul(kT);
        if (layer.bias() != null) {
            scores = scores.addi(layer.bias());
        }
        NDArray probabilities = scores.softmax(3);
        if (rollout != null) {
            rollout.add(probabilities);
        }
        NDArray context = probabilities.matMul(v);
        NDArray merged = context.transpose(0, 2, 1, 3).reshape(n, tokens, hidden);
        return Linear.linear(merged, layer.attentionOutWeight(), layer.attentionOutBias()).singletonOrThrow();
    }

    private NDArray norm(NDArray input, NDArray weight, NDArray bias) {
        return LayerNorm.layerNorm(input, new Shape(hidden), weight, bias, eps).singletonOrThrow();
    }
}
