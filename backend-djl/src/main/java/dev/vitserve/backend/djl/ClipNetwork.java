package dev.vitserve.backend.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.pytorch.jni.JniUtils;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.ClipConfig;
import dev.vitserve.api.ModelWeights;
import dev.vitserve.api.VitConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * Hugging Face's {@code CLIPModel} (modeling_clip.py) built with DJL NDArray operations from its safetensors weights:
 * the image tower to projected image embeddings, the text tower to projected text embeddings, as
 * {@code ClipGraphBuilder} builds them for ONNX Runtime; or Hugging Face's {@code SiglipModel} (modeling_siglip.py):
 * patches with bias and no class token, {@code post_layernorm} on every token and the attention pooling
 * {@code head}; text attending both ways, its last position through the linear {@code head}. The weights live in one manager for the network's lifetime;
 * a forward pass keeps no state, so it runs from several threads at once, each call's arrays in a sub-manager.
 */
final class ClipNetwork implements AutoCloseable {

    private final NDManager manager;
    private final ClipConfig config;
    private final ModelWeights weights;
    private final Tower vision;
    private final Tower text;
    private final NDArray patchWeight;
    private final NDArray classEmbedding;
    private final NDArray visionPositions;
    private final NDArray preNormWeight;
    private final NDArray preNormBias;
    private final NDArray postNormWeight;
    private final NDArray postNormBias;
    private final NDArray visualProjection;
    private final FloatBuffer tokenEmbedding;
    private final FloatBuffer textPositions;
    private final NDArray finalNormWeight;
    private final NDArray finalNormBias;
    private final NDArray textProjection;
    private final NDArray textHeadBias;
    private final NDArray patchBias;
    private final Head head;

    /** SigLIP's multihead attention pooling head. */
    private record Head(NDArray probe, NDArray q, NDArray qBias, NDArray k, NDArray kBias, NDArray v, NDArray vBias,
                        NDArray out, NDArray outBias, NDArray normWeight, NDArray normBias, NDArray fc1,
                        NDArray fc1Bias, NDArray fc2, NDArray fc2Bias) {
    }

    /** One encoder layer's arrays. */
    private record Layer(NDArray norm1Weight, NDArray norm1Bias, NDArray q, NDArray qBias, NDArray k, NDArray kBias,
                         NDArray v, NDArray vBias, NDArray out, NDArray outBias, NDArray norm2Weight,
                         NDArray norm2Bias, NDArray fc1, NDArray fc1Bias, NDArray fc2, NDArray fc2Bias) {
    }

    /** One tower's encoder. */
    private record Tower(List<Layer> layers, long hidden, long heads, float eps, String act, boolean causal) {
    }

    private ClipNetwork(NDManager manager, ClipConfig config, ModelWeights weights) throws BackendException {
        this.manager = manager;
        this.config = config;
        this.weights = weights;
        VitConfig v = config.vision();
        ClipConfig.Text t = config.text();
        long vh = v.hiddenSize();
        long th = t.hiddenSize();
        boolean siglip = config.family() == ClipConfig.Family.SIGLIP;
        String ve = "vision_model.embeddings.";
        patchWeight = read(ve + "patch_embedding.weight", vh, v.numChannels(), v.patchSize(), v.patchSize());
        patchBias = siglip ? read(ve + "patch_embedding.bias", vh) : null;
        classEmbedding = siglip ? null : read(ve + "class_embedding", vh);
        visionPositions = read(ve + "position_embedding.weight", v.numPatches() + (siglip ? 0 : 1), vh);
        preNormWeight = siglip ? null : read("vision_model.pre_layrnorm.weight", vh);
        preNormBias = siglip ? null : read("vision_model.pre_layrnorm.bias", vh);
        postNormWeight = read("vision_model.post_layernorm.weight", vh);
        postNormBias = read("vision_model.post_layernorm.bias", vh);
        visualProjection = siglip ? null : read("visual_projection.weight", config.projectionDim(), vh);
        vision = tower("vision_model.", v.numLayers(), vh, v.intermediateSize(), v.numHeads(), v.layerNormEps(),
                v.hiddenAct(), false);
        head = siglip ? head("vision_model.head.", vh, v.intermediateSize()) : null;
        check("text_model.embeddings.token_embedding.weight", t.vocabSize(), th);
        tokenEmbedding = weights.floats("text_model.embeddings.token_embedding.weight");
        check("text_model.embeddings.position_embedding.weight", t.maxPositions(), th);
        textPositions = weights.floats("text_model.embeddings.position_embedding.weight");
        finalNormWeight = read("text_model.final_layer_norm.weight", th);
        finalNormBias = read("text_model.final_layer_norm.bias", th);
        textProjection = read(siglip ? "text_model.head.weight" : "text_projection.weight", config.projectionDim(), th);
        textHeadBias = siglip ? read("text_model.head.bias", config.projectionDim()) : null;
        text = tower("text_model.", t.numLayers(), th, t.intermediateSize(), t.numHeads(), t.layerNormEps(),
                t.hiddenAct(), !siglip);
    }

    private Head head(String prefix, long hidden, long intermediate) throws BackendException {
        String a = prefix + "attention.";
        check(a + "in_proj_weight", 3 * hidden, hidden);
        check(a + "in_proj_bias", 3 * hidden);
        NDArray packed = read(a + "in_proj_weight", 3 * hidden, hidden);
        NDArray packedBias = read(a + "in_proj_bias", 3 * hidden);
        NDArray[] w = new NDArray[3];
        NDArray[] b = new NDArray[3];
        for (int i = 0; i < 3; i++) {
            w[i] = packed.get(new NDIndex(i * hidden + ":" + (i + 1) * hidden + ", :")).duplicate();
            b[i] = packedBias.get(new NDIndex(i * hidden + ":" + (i + 1) * hidden)).duplicate();
        }
        packed.close();
        packedBias.close();
        return new Head(read(prefix + "probe", 1, 1, hidden), w[0], b[0], w[1], b[1], w[2], b[2],
                read(a + "out_proj.weight", hidden, hidden), read(a + "out_proj.bias", hidden),
                read(prefix + "layernorm.weight", hidden), read(prefix + "layernorm.bias", hidden),
                read(prefix + "mlp.fc1.weight", intermediate, hidden), read(prefix + "mlp.fc1.bias", intermediate),
                read(prefix + "mlp.fc2.weight", hidden, intermediate), read(prefix + "mlp.fc2.bias", hidden));
    }

    /**
     * Reads the weights onto a device.
     *
     * @throws BackendException when an activation is not built, or a tensor is missing or has the wrong shape
     */
    static ClipNetwork build(ClipConfig config, ModelWeights weights, ai.djl.Device device) throws BackendException {
        for (String act : List.of(config.vision().hiddenAct(), config.text().hiddenAct())) {
            if (!ClipConfig.ACTIVATIONS.contains(act)) {
                throw new BackendException("config.json has hidden_act '" + act + "', but vitserve builds CLIP towers"
                        + " with " + ClipConfig.ACTIVATIONS + " only");
            }
        }
        NDManager manager = NDManager.newBaseManager(device, PyTorchRuntime.ENGINE_NAME);
        try {
            return new ClipNetwork(manager, config, weights);
        } catch (BackendException | RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    private Tower tower(String prefix, int layers, long hidden, long intermediate, int heads, double eps, String act,
                        boolean causal) throws BackendException {
        List<Layer> list = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            String l = prefix + "encoder.layers." + i + ".";
            String a = l + "self_attn.";
            list.add(new Layer(read(l + "layer_norm1.weight", hidden), read(l + "layer_norm1.bias", hidden),
                    read(a + "q_proj.weight", hidden, hidden), read(a + "q_proj.bias", hidden),
                    read(a + "k_proj.weight", hidden, hidden), read(a + "k_proj.bias", hidden),
                    read(a + "v_proj.weight", hidden, hidden), read(a + "v_proj.bias", hidden),
                    read(a + "out_proj.weight", hidden, hidden), read(a + "out_proj.bias", hidden),
                    read(l + "layer_norm2.weight", hidden), read(l + "layer_norm2.bias", hidden),
                    read(l + "mlp.fc1.weight", intermediate, hidden), read(l + "mlp.fc1.bias", intermediate),
                    read(l + "mlp.fc2.weight", hidden, intermediate), read(l + "mlp.fc2.bias", hidden)));
        }
        return new Tower(list, hidden, heads, (float) eps, act, causal);
    }

    /** Projected image embeddings {@code [N, projection]} of pixels {@code [N, C, H, W]} (in the call's manager). */
    NDArray images(NDArray pixels) {
        return withoutGrad(() -> {
            long n = pixels.getShape().get(0);
            long hidden = vision.hidden();
            long patch = config.vision().patchSize();
            NDArray patches = Conv2d.conv2d(pixels, patchWeight, patchBias, new Shape(patch, patch)).singletonOrThrow();
            NDArray tokens = patches.reshape(n, hidden, -1).transpose(0, 2, 1);
            if (head != null) {
                NDArray h = encoder(tokens.add(visionPositions), vision, null);
                return pool(layerNorm(h, postNormWeight, postNormBias, vision));
            }
            NDArray cls = pixels.getManager().zeros(new Shape(n, 1, hidden)).addi(classEmbedding);
            NDArray h = cls.concat(tokens, 1).addi(visionPositions);
            h = layerNorm(h, preNormWeight, preNormBias, vision);
            h = encoder(h, vision, null);
            NDArray pooled = layerNorm(h.get(new NDIndex(":, 0, :")), postNormWeight, postNormBias, vision);
            return Linear.linear(pooled, visualProjection, null).singletonOrThrow();
        });
    }

    /** Projected text embeddings {@code [N, projection]} of {@code n} rows of {@code length} ids. */
    NDArray texts(NDManager call, long[] ids, int n, int length) {
        return withoutGrad(() -> {
            int hidden = (int) text.hidden();
            float[] embedded = new float[n * length * hidden];
            float[] position = new float[hidden];
            // token plus position embedding, looked up here: an op on a weight array would land in the network's manager
            for (int i = 0; i < ids.length; i++) {
                tokenEmbedding.get((int) ids[i] * hidden, embedded, i * hidden, hidden);
                textPositions.get((i % length) * hidden, position, 0, hidden);
                for (int j = 0; j < hidden; j++) {
                    embedded[i * hidden + j] += position[j];
                }
            }
            NDArray h = call.create(embedded, new Shape(n, length, hidden));
            float[] mask = new float[length * length];
            for (int i = 0; i < length; i++) {
                Arrays.fill(mask, i * length + i + 1, (i + 1) * length, Float.NEGATIVE_INFINITY);
            }
            h = encoder(h, text, text.causal() ? call.create(mask, new Shape(length, length)) : null);
            h = layerNorm(h, finalNormWeight, finalNormBias, text);
            if (textHeadBias != null) {
                NDArray last = h.get(new NDIndex(":, -1, :"));
                return Linear.linear(last, textProjection, textHeadBias).singletonOrThrow();
            }
            NDList pooled = new NDList();
            for (int r = 0; r < n; r++) {
                pooled.add(h.get(r, endOfText(ids, r * length, length)));
            }
            return Linear.linear(NDArrays.stack(pooled), textProjection, null).singletonOrThrow();
        });
    }

    /** Where a row's text ends: its first eos_token_id, or its largest id for configs whose eos_token_id is 2. */
    private long endOfText(long[] ids, int from, int length) {
        int at = 0;
        for (int i = 0; i < length; i++) {
            long id = ids[from + i];
            if (config.text().poolsAtLargestId() ? id > ids[from + at] : id == config.text().eosTokenId()) {
                at = i;
                if (!config.text().poolsAtLargestId()) {
                    break;
                }
            }
        }
        return at;
    }

    private NDArray encoder(NDArray h, Tower tower, NDArray mask) {
        for (Layer layer : tower.layers()) {
            NDArray attended = h.add(attention(layerNorm(h, layer.norm1Weight(), layer.norm1Bias(), tower), layer,
                    tower, mask));
            NDArray up = Linear.linear(layerNorm(attended, layer.norm2Weight(), layer.norm2Bias(), tower), layer.fc1(),
                    layer.fc1Bias()).singletonOrThrow();
            h = attended.addi(Linear.linear(activate(up, tower), layer.fc2(), layer.fc2Bias()).singletonOrThrow());
        }
        return h;
    }

    private static NDArray activate(NDArray x, Tower tower) {
        return switch (tower.act()) {
            case "quick_gelu" -> x.mul(Activation.sigmoid(x.mul(1.702f)));
            // torch's gelu(approximate="tanh"): 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
            case "gelu_pytorch_tanh" -> x.mul(x.mul(x).muli(0.044715f).addi(1f).muli(x)
                    .muli((float) Math.sqrt(2 / Math.PI)).tanh().addi(1f)).muli(0.5f);
            default -> Activation.gelu(x);
        };
    }

    /** SigLIP's attention pooling of tokens {@code [N, T, hidden]}: the probe's output {@code [N, hidden]}. */
    private NDArray pool(NDArray h) {
        long n = h.getShape().get(0);
        long t = h.getShape().get(1);
        long hidden = vision.hidden();
        long heads = vision.heads();
        long size = hidden / heads;
        NDArray probe = h.getManager().zeros(new Shape(n, 1, hidden)).addi(head.probe());
        NDArray q = Linear.linear(probe, head.q(), head.qBias()).singletonOrThrow()
                .reshape(n, 1, heads, size).transpose(0, 2, 1, 3);
        NDArray kT = Linear.linear(h, head.k(), head.kBias()).singletonOrThrow()
                .reshape(n, t, heads, size).transpose(0, 2, 3, 1);
        NDArray v = Linear.linear(h, head.v(), head.vBias()).singletonOrThrow()
                .reshape(n, t, heads, size).transpose(0, 2, 1, 3);
        NDArray context = q.matMul(kT).muli((float) (1.0 / Math.sqrt(size))).softmax(3).matMul(v)
                .transpose(0, 2, 1, 3).reshape(n, 1, hidden);
        NDArray x = Linear.linear(context, head.out(), head.outBias()).singletonOrThrow();
        NDArray up = Linear.linear(layerNorm(x, head.normWeight(), head.normBias(), vision), head.fc1(),
                head.fc1Bias()).singletonOrThrow();
        x = x.addi(Linear.linear(activate(up, vision), head.fc2(), head.fc2Bias()).singletonOrThrow());
        return x.reshape(n, hidden);
    }

    private static NDArray attention(NDArray x, Layer layer, Tower tower, NDArray mask) {
        long n = x.getShape().get(0);
        long t = x.getShape().get(1);
        long heads = tower.heads();
        long size = tower.hidden() / heads;
        NDArray q = Linear.linear(x, layer.q(), layer.qBias()).singletonOrThrow()
                .reshape(n, t, heads, size).transpose(0, 2, 1, 3);
        NDArray kT = Linear.linear(x, layer.k(), layer.kBias()).singletonOrThrow()
                .reshape(n, t, heads, size).transpose(0, 2, 3, 1);
        NDArray v = Linear.linear(x, layer.v(), layer.vBias()).singletonOrThrow()
                .reshape(n, t, heads, size).transpose(0, 2, 1, 3);
        NDArray scores = q.matMul(kT).muli((float) (1.0 / Math.sqrt(size)));
        if (mask != null) {
            scores = scores.addi(mask);
        }
        NDArray context = scores.softmax(3).matMul(v).transpose(0, 2, 1, 3).reshape(n, t, tower.hidden());
        return Linear.linear(context, layer.out(), layer.outBias()).singletonOrThrow();
    }

    private static NDArray layerNorm(NDArray x, NDArray weight, NDArray bias, Tower tower) {
        return LayerNorm.layerNorm(x, new Shape(tower.hidden()), weight, bias, tower.eps()).singletonOrThrow();
    }

    private static NDArray withoutGrad(Supplier<NDArray> forward) {
        boolean gradMode = JniUtils.isGradMode();
        if (gradMode) {
            JniUtils.setGradMode(false);
        }
        try {
            return forward.get();
        } finally {
            if (gradMode) {
                JniUtils.setGradMode(true);
            }
        }
    }

    /** The long-lived manager; each call's arrays live in a child of it. */
    NDManager manager() {
        return manager;
    }

    private void check(String name, long... shape) throws BackendException {
        if (!weights.contains(name)) {
            throw new BackendException(weights.file() + " has no tensor '" + name + "': vitserve builds the networks of"
                    + " a Hugging Face CLIPModel, and this checkpoint is not one or is incomplete");
        }
        long[] found = weights.shape(name);
        if (!Arrays.equals(found, shape)) {
            throw new BackendException("tensor '" + name + "' in " + weights.file() + " has shape "
                    + Arrays.toString(found) + ", but config.json needs " + Arrays.toString(shape));
        }
    }

    private NDArray read(String name, long... shape) throws BackendException {
        check(name, shape);
        FloatBuffer values = weights.floats(name).duplicate();
        ByteBuffer staging = ByteBuffer.allocateDirect(values.remaining() * Float.BYTES).order(ByteOrder.nativeOrder());
        staging.asFloatBuffer().put(values);
        NDArray staged = manager.create(staging, new Shape(shape), DataType.FLOAT32);
        if (manager.getDevice().isGpu()) {
            return staged;
        }
        NDArray owned = staged.duplicate();
        staged.close();
        return owned;
    }

    @Override
    public void close() {
        manager.close();
    }
}
