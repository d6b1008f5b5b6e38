package dev.vitserve.backend.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.ModelWeights;
import dev.vitserve.api.VitConfig;

/**
 * Hugging Face's {@code ViTForImageClassification} (modeling_vit.py), or a DeiT classifier (modeling_deit.py: a
 * distillation token after the class token; with a teacher, the mean of a head on each), built with DJL NDArray
 * operations from its safetensors weights, for any {@link VitConfig}. The weights live in one manager for the network's lifetime; the
 * forward pass is stateless, so it runs from several threads at once, and it records no autograd graph. In bfloat16
 * the weights are bfloat16 and every op runs in it (libtorch's CPU kernels accumulate layer norm, softmax and the
 * matrix products in float32), the pixels cast on the way in and the logits and embeddings on the way out.
 */
final class VitNetwork extends StatelessNetwork {

    private final VitParameters parameters;
    private final long hidden;
    private final long heads;
    private final long headSize;
    private final long patch;
    private final float eps;
    /** The tokens the heads read: the class token, and with a teacher also the distillation token. */
    private final int headTokens;
    private final long patches;

    private VitNetwork(NDManager manager, VitParameters parameters, VitConfig config) {
        super(manager);
        this.parameters = parameters;
        this.hidden = config.hiddenSize();
        this.heads = config.numHeads();
        this.headSize = config.headSize();
        this.patch = config.patchSize();
        this.eps = (float) config.layerNormEps();
        this.headTokens = parameters.distillationWeight != null ? 2 : 1;
        this.patches = config.numPatches();
    }

    @Override
    long patches() {
        return patches;
    }

    @Override
    NDList forward(NDArray pixels) {
        return forward(pixels, null);
    }

    /**
     * Reads the weights onto a device as {@code dataType} (float32 or bfloat16) and builds the network, as
     * {@link StatelessNetwork#build} says.
     */
    static VitNetwork build(VitConfig config, ModelWeights weights, Device device, DataType dataType)
            throws BackendException {
        return build(config, weights, device, manager -> new VitNetwork(manager,
                VitParameters.load(config, weights, manager, ComputeType.of(dataType, manager)), config));
    }

    /**
     * Embeddings, then the encoder layers, then the final LayerNorm of the class token (the image's embedding)
     * and the classifier on it. Each stage runs in an
     * {@link NDScope} that closes its intermediate arrays as soon as the stage is done, so a call holds about one
     * layer's activations at a time.
     */
    @Override
    NDList forward(NDArray pixels, AttentionRollout rollout) {
        NDArray states = stage(() -> embed(parameters.computeType.in(pixels)));
        for (int i = 0; i < parameters.layers.size(); i++) {
            NDArray input = states;
            VitParameters.Layer layer = parameters.layers.get(i);
            // only the head tokens' outputs feed the classifier: the last layer computes just those rows
            boolean last = i == parameters.layers.size() - 1;
            states = stage(() -> encoderLayer(input, layer, last, rollout));
        }
        try (NDScope stage = new NDScope()) {
            long n = states.getShape().get(0);
            NDArray normed = layerNorm(states, parameters.finalNormWeight, parameters.finalNormBias);
            NDArray logits;
            if (headTokens == 1) {
                logits = linear(normed.reshape(n, hidden), parameters.classifierWeight, parameters.classifierBias);
            } else {
                // DeiT with teacher: (class head(class token) + distillation head(distillation token)) / 2
                logits = linear(normed.get(":, 0, :"), parameters.classifierWeight, parameters.classifierBias)
                        .addi(linear(normed.get(":, 1, :"), parameters.distillationWeight, parameters.distillationBias))
                        .divi(2);
            }
            // the embedding is what the heads read, side by side
            NDArray embeddings = parameters.computeType.out(normed.reshape(n, headTokens * hidden));
            logits = parameters.computeType.out(logits);
            NDScope.unregister(logits, embeddings);
            return new NDList(logits, embeddings);
        }
    }

    /** {@code [N, C, H, W]} pixels to {@code [N, 1 + patches, hidden]}: class token, then the patches, plus positions. */
    private NDArray embed(NDArray pixels) {
        long n = pixels.getShape().get(0);
        NDArray patches = Conv2d.conv2d(pixels, parameters.patchWeight, parameters.patchBias, new Shape(patch, patch))
                .singletonOrThrow();
        NDArray tokens = patches.reshape(n, hidden, -1).transpose(0, 2, 1).add(parameters.patchPositions);
        // a view of the weight, moved to the call's manager (the pixels'): an op on a weight lands in the network's
        long front = parameters.frontTokens.getShape().get(1);
        NDArray frontTokens = parameters.frontTokens.broadcast(new Shape(n, front, hidden));
        frontTokens.attach(pixels.getManager());
        return frontTokens.concat(tokens, 1);
    }

    /**
     * One pre-LayerNorm encoder layer: {@code h += attention(LN(h))}, then {@code h += W2 gelu(W1 LN(h))}. Updates
     * {@code states} in place, or with {@code classTokenOnly} returns a new {@code [N, 1, hidden]} for the class token.
     */
    private NDArray encoderLayer(NDArray states, VitParameters.Layer layer, boolean classTokenOnly,
                                 AttentionRollout rollout) {
        NDArray attended = attention(layerNorm(states, layer.normBeforeWeight(), layer.normBeforeBias()), layer,
                classTokenOnly, rollout);
        NDArray residual = classTokenOnly ? attended.addi(states.get(":, :" + headTokens + ", :"))
                : states.addi(attended);
        NDArray expanded = Activation.gelu(linear(layerNorm(residual, layer.normAfterWeight(), layer.normAfterBias()),
                layer.mlpInWeight(), layer.mlpInBias()));
        return residual.addi(linear(expanded, layer.mlpOutWeight(), layer.mlpOutBias()));
    }

    /** Multi-head self-attention and its output projection, for every token or for the class token only. */
    private NDArray attention(NDArray normed, VitParameters.Layer layer, boolean classTokenOnly,
                              AttentionRollout rollout) {
        long n = normed.getShape().get(0);
        long tokens = normed.getShape().get(1);
        NDList qkv = linear(normed, layer.qkvWeight(), layer.qkvBias()).split(3, 2);
        NDArray queries = classTokenOnly ? qkv.get(0).get(":, :" + headTokens + ", :") : qkv.get(0);
        long queryTokens = classTokenOnly ? headTokens : tokens;
        // [N, T, hidden] -> [N, heads, T, headSize]; the keys transposed for the product: [N, heads, headSize, T]
        NDArray q = queries.reshape(n, queryTokens, heads, headSize).transpose(0, 2, 1, 3);
        NDArray kT = qkv.get(1).reshape(n, tokens, heads, headSize).transpose(0, 2, 3, 1);
        NDArray v = qkv.get(2).reshape(n, tokens, heads, headSize).transpose(0, 2, 1, 3);
        // the queries are already scaled by headSize^-0.5 (see VitParameters); softmax over the keys
        NDArray probabilities = parameters.computeType.softmax(q.matMul(kT));
        if (rollout != null) {
            // the rollout is multiplied through the layers in float32, whatever the network computes in
            rollout.add(parameters.computeType.out(probabilities));
        }
        NDArray context = probabilities.matMul(v);
        NDArray merged = context.transpose(0, 2, 1, 3).reshape(n, queryTokens, hidden);
        return linear(merged, layer.attentionOutWeight(), layer.attentionOutBias());
    }

    private NDArray layerNorm(NDArray input, NDArray weight, NDArray bias) {
        return LayerNorm.layerNorm(input, new Shape(hidden), weight, bias, eps).singletonOrThrow();
    }

    /**
     * {@code input W^T + b} in one op (PyTorch's linear), with the weight as stored, {@code [out, in]}. A 3-D input
     * is flattened to rows first: libtorch then adds the bias inside the matrix product ({@code addmm}), where on a
     * 3-D input it runs a separate in-place add over the whole output, measured at a third of the products' time.
     */
    private static NDArray linear(NDArray input, NDArray weight, NDArray bias) {
        Shape shape = input.getShape();
        if (shape.dimension() != 3) {
            return Linear.linear(input, weight, bias).singletonOrThrow();
        }
        NDArray rows = Linear.linear(input.reshape(shape.get(0) * shape.get(1), shape.get(2)), weight, bias)
                .singletonOrThrow();
        return rows.reshape(shape.get(0), shape.get(1), weight.getShape().get(0));
    }
}
