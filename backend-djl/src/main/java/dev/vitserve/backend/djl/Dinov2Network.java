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
import dev.vitserve.api.arch.Dinov2;
import java.util.ArrayList;
import java.util.List;

/**
 * Hugging Face's {@code Dinov2ForImageClassification} (modeling_dinov2.py) and
 * {@code Dinov2WithRegistersForImageClassification} (modeling_dinov2_with_registers.py) built with DJL NDArray
 * operations: class token, register tokens, patches, with the position embeddings interpolated to the input size once
 * at load ({@link Dinov2#positionEmbeddings}); pre-LN layers with LayerScale after the attention and after the
 * feed-forward (MLP with GELU, or SwiGLU); the final LayerNorm, and the classifier on the class token beside the mean
 * of the patch tokens, which is also the embedding. Stateless and without autograd, as {@link VitNetwork}.
 */
final class Dinov2Network extends StatelessNetwork {

    /** One layer; the query rows of {@code qkvWeight} and {@code qkvBias} carry the attention scale. */
    private record Layer(NDArray norm1Weight, NDArray norm1Bias, NDArray qkvWeight, NDArray qkvBias,
                         NDArray attentionOutWeight, NDArray attentionOutBias, NDArray scale1,
                         NDArray norm2Weight, NDArray norm2Bias, NDArray inWeight, NDArray inBias,
                         NDArray outWeight, NDArray outBias, NDArray scale2) {
    }

    private final Dinov2 dinov2;
    private final long hidden;
    private final long heads;
    private final long headSize;
    private final long patch;
    private final float eps;
    /** The patch tokens, last in the sequence: what a rollout is over. */
    private final long patches;
    private final NDArray patchWeight;
    private final NDArray patchBias;
    /** The class token plus its position embedding, {@code [1, 1, hidden]}. */
    private final NDArray classToken;
    /** {@code [1, registers, hidden]}, or null without registers. */
    private final NDArray registers;
    /** The patches' position embeddings at the input size, {@code [1, patches, hidden]}. */
    private final NDArray patchPositions;
    private final List<Layer> layers = new ArrayList<>();
    private final NDArray finalNormWeight;
    private final NDArray finalNormBias;
    private final NDArray classifierWeight;
    private final NDArray classifierBias;

    private Dinov2Network(WeightReader reader, VitConfig config) throws BackendException {
        super(reader.manager());
        this.dinov2 = (Dinov2) config.architecture();
        this.hidden = config.hiddenSize();
        this.heads = config.numHeads();
        this.headSize = config.headSize();
        this.patch = config.patchSize();
        this.eps = (float) config.layerNormEps();
        this.patches = config.numPatches();
        String base = dinov2.prefix();
        patchWeight = reader.read(base + "embeddings.patch_embeddings.projection.weight", hidden, config.numChannels(),
                patch, patch);
        patchBias = reader.read(base + "embeddings.patch_embeddings.projection.bias", hidden);
        int trained = (dinov2.trainedHeight() / config.patchSize()) * (dinov2.trainedWidth() / config.patchSize());
        float[] table = reader.values(base + "embeddings.position_embeddings", 1, trained + 1L, hidden);
        float[] positions = dinov2.positionEmbeddings(table, config.hiddenSize(), config.patchSize(),
                config.imageHeight(), config.imageWidth());
        NDArray all = reader.create(base + "embeddings.position_embeddings", positions, 1, config.numPatches() + 1L,
                hidden);
        NDArray token = reader.read(base + "embeddings.cls_token", 1, 1, hidden);
        try (NDArray classPosition = all.get(":, :1, :")) {
            classToken = token.addi(classPosition);
        }
        patchPositions = all.get(":, 1:, :");
        all.close();
        registers = dinov2.registers() > 0
                ? reader.read(base + "embeddings.register_tokens", 1, dinov2.registers(), hidden) : null;
        for (int i = 0; i < config.numLayers(); i++) {
            layers.add(layer(reader, config, base + "encoder.layer." + i + "."));
        }
        finalNormWeight = reader.read(base + "layernorm.weight", hidden);
        finalNormBias = reader.read(base + "layernorm.bias", hidden);
        classifierWeight = reader.read("classifier.weight", config.numLabels(), 2 * hidden);
        classifierBias = reader.read("classifier.bias", config.numLabels());
    }

    /** Reads the weights onto a device and builds the network, as {@link StatelessNetwork#build} says. */
    static Dinov2Network build(VitConfig config, ModelWeights weights, Device device) throws BackendException {
        String base = ((Dinov2) config.architecture()).prefix();
        return build(config, weights, device, manager -> new Dinov2Network(new WeightReader(weights, config, manager, base
                + "embeddings.*, " + base + "encoder.layer.N.*, " + base + "layernorm.*, classifier.*"), config));
    }

    private Layer layer(WeightReader reader, VitConfig config, String prefix) throws BackendException {
        String attention = prefix + "attention.attention.";
        float scale = (float) (1.0 / Math.sqrt(config.headSize()));
        NDArray qkvWeight = fuse(reader.read(attention + "query.weight", hidden, hidden).muli(scale),
                reader.read(attention + "key.weight", hidden, hidden), reader.read(attention + "value.weight", hidden, hidden));
        NDArray qkvBias = config.qkvBias()
                ? fuse(reader.read(attention + "query.bias", hidden).muli(scale), reader.read(attention + "key.bias", hidden),
                        reader.read(attention + "value.bias", hidden))
                : null;
        long mlp = config.intermediateSize();
        String in = dinov2.swiglu() ? "mlp.weights_in" : "mlp.fc1";
        String out = dinov2.swiglu() ? "mlp.weights_out" : "mlp.fc2";
        long inWidth = dinov2.swiglu() ? 2L * Dinov2.swigluHidden(config.intermediateSize()) : mlp;
        long outWidth = dinov2.swiglu() ? Dinov2.swigluHidden(config.intermediateSize()) : mlp;
        return new Layer(reader.read(prefix + "norm1.weight", hidden), reader.read(prefix + "norm1.bias", hidden),
                qkvWeight, qkvBias,
                reader.read(prefix + "attention.output.dense.weight", hidden, hidden),
                reader.read(prefix + "attention.output.dense.bias", hidden),
                reader.read(prefix + "layer_scale1.lambda1", hidden),
                reader.read(prefix + "norm2.weight", hidden), reader.read(prefix + "norm2.bias", hidden),
                reader.read(prefix + in + ".weight", inWidth, hidden), reader.read(prefix + in + ".bias", inWidth),
                reader.read(prefix + out + ".weight", hidden, outWidth), reader.read(prefix + out + ".bias", hidden),
                reader.read(prefix + "layer_scale2.lambda1", hidden));
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
            NDArray normed = LayerNorm.layerNorm(states, new Shape(hidden), finalNormWeight, finalNormBias, eps)
                    .singletonOrThrow();
            NDArray cls = normed.get(":, 0, :");
            NDArray patches = normed.get(":, " + (1 + dinov2.registers()) + ":, :").mean(new int[] {1});
            NDArray embeddings = cls.concat(patches, 1).reshape(n, 2 * hidden);
            NDArray logits = Linear.linear(embeddings, classifierWeight, classifierBias).singletonOrThrow();
            NDScope.unregister(logits, embeddings);
            return new NDList(logits, embeddings);
        }
    }

    private NDArray embed(NDArray pixels) {
        long n = pixels.getShape().get(0);
        NDArray patches = Conv2d.conv2d(pixels, patchWeight, patchBias, new Shape(patch, patch)).singletonOrThrow();
        NDArray tokens = patches.reshape(n, hidden, -1).transpose(0, 2, 1).add(patchPositions);
        NDArray front = pixels.getManager().zeros(new Shape(n, 1, hidden)).addi(classToken);
        if (registers != null) {
            front = front.concat(pixels.getManager().zeros(new Shape(n, dinov2.registers(), hidden)).addi(registers), 1);
        }
        return front.concat(tokens, 1);
    }

    private NDArray encoderLayer(NDArray states, Layer layer, AttentionRollout rollout) {
        NDArray attended = attention(norm(states, layer.norm1Weight(), layer.norm1Bias()), layer, rollout).muli(layer.scale1());
        NDArray residual = states.addi(attended);
        NDArray x = norm(residual, layer.norm2Weight(), layer.norm2Bias());
        NDArray up = Linear.linear(x, layer.inWeight(), layer.inBias()).singletonOrThrow();
        NDArray hiddenLayer;
        if (dinov2.swiglu()) {
            NDList halves = up.split(2, 2);
            NDArray gate = halves.get(0);
            // SwiGLU: silu(x1) * x2, silu(x) = x * sigmoid(x)
            hiddenLayer = gate.mul(Activation.sigmoid(gate)).muli(halves.get(1));
        } else {
            hiddenLayer = Activation.gelu(up);
        }
        NDArray down = Linear.linear(hiddenLayer, layer.outWeight(), layer.outBias()).singletonOrThrow();
        return residual.addi(down.muli(layer.scale2()));
    }

    private NDArray attention(NDArray normed, Layer layer, AttentionRollout rollout) {
        long n = normed.getShape().get(0);
        long tokens = normed.getShape().get(1);
        NDList qkv = Linear.linear(normed, layer.qkvWeight(), layer.qkvBias()).singletonOrThrow().split(3, 2);
        NDArray q = qkv.get(0).reshape(n, tokens, heads, headSize).transpose(0, 2, 1, 3);
        NDArray kT = qkv.get(1).reshape(n, tokens, heads, headSize).transpose(0, 2, 3, 1);
        NDArray v = qkv.get(2).reshape(n, tokens, heads, headSize).transpose(0, 2, 1, 3);
        NDArray probabilities = q.matMul(kT).softmax(3);
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
