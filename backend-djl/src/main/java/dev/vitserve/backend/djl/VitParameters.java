package dev.vitserve.backend.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.ModelWeights;
import dev.vitserve.api.VitConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The parameters of a Hugging Face {@code ViTForImageClassification}, read from its safetensors weights under Hugging
 * Face's names, checked against {@code config.json}, and laid out for the forward pass: query, key and value fused
 * into one projection with the attention scale folded into the query rows, and the class token's position embedding
 * added to it once. Every array belongs to the manager given to {@link #load}.
 */
final class VitParameters {

    /** One encoder layer; {@code qkvBias} is null when config.json says {@code qkv_bias: false}. */
    record Layer(NDArray normBeforeWeight, NDArray normBeforeBias, NDArray qkvWeight, NDArray qkvBias,
                 NDArray attentionOutWeight, NDArray attentionOutBias, NDArray normAfterWeight, NDArray normAfterBias,
                 NDArray mlpInWeight, NDArray mlpInBias, NDArray mlpOutWeight, NDArray mlpOutBias) {
    }

    /** Convolution {@code [hidden, channels, patch, patch]} and bias {@code [hidden]} that embed the patches. */
    final NDArray patchWeight;
    final NDArray patchBias;
    /** The class token plus its position embedding, {@code [1, 1, hidden]}. */
    final NDArray classToken;
    /** The position embeddings of the patches, {@code [1, patches, hidden]}. */
    final NDArray patchPositions;
    final List<Layer> layers;
    final NDArray finalNormWeight;
    final NDArray finalNormBias;
    /** Classifier {@code [labels, hidden]} and bias {@code [labels]}. */
    final NDArray classifierWeight;
    final NDArray classifierBias;

    private VitParameters(Reader reader, VitConfig config) throws BackendException {
        long hidden = config.hiddenSize();
        long patch = config.patchSize();
        patchWeight = reader.read("vit.embeddings.patch_embeddings.projection.weight", hidden, config.numChannels(), patch,
                patch);
        patchBias = reader.read("vit.embeddings.patch_embeddings.projection.bias", hidden);
        NDArray token = reader.read("vit.embeddings.cls_token", 1, 1, hidden);
        NDArray positions = reader.read("vit.embeddings.position_embeddings", 1, config.numPatches() + 1L, hidden);
        try (NDArray classTokenPosition = positions.get(":, :1, :")) {
            classToken = token.addi(classTokenPosition);
        }
        patchPositions = positions.get(":, 1:, :");
        positions.close();
        layers = new ArrayList<>(config.numLayers());
        for (int i = 0; i < config.numLayers(); i++) {
            layers.add(layer(reader, config, "vit.encoder.layer." + i + "."));
        }
        finalNormWeight = reader.read("vit.layernorm.weight", hidden);
        finalNormBias = reader.read("vit.layernorm.bias", hidden);
        classifierWeight = reader.read("classifier.weight", config.numLabels(), hidden);
        classifierBias = reader.read("classifier.bias", config.numLabels());
    }

    /**
     * Reads every tensor the network needs into {@code manager} (on the network's device).
     *
     * @throws BackendException naming the tensor when one is missing, has another shape than config.json implies,
     *     or is not a float type
     */
    static VitParameters load(VitConfig config, ModelWeights weights, NDManager manager) throws BackendException {
        return new VitParameters(new Reader(weights, config, manager), config);
    }

    private static Layer layer(Reader reader, VitConfig config, String prefix) throws BackendException {
        long hidden = config.hiddenSize();
        long mlp = config.intermediateSize();
        String attention = prefix + "attention.attention.";
        // softmax(q k^T * s) = softmax((s q) k^T): the scale head_size^-0.5 goes into the query weights and bias once
        float scale = (float) (1.0 / Math.sqrt(config.headSize()));
        NDArray qkvWeight = fuse(reader.read(attention + "query.weight", hidden, hidden).muli(scale),
                reader.read(attention + "key.weight", hidden, hidden), reader.read(attention + "value.weight", hidden, hidden));
        NDArray qkvBias = config.qkvBias()
                ? fuse(reader.read(attention + "query.bias", hidden).muli(scale), reader.read(attention + "key.bias", hidden),
                        reader.read(attention + "value.bias", hidden))
                : null;
        return new Layer(
                reader.read(prefix + "layernorm_before.weight", hidden), reader.read(prefix + "layernorm_before.bias", hidden),
                qkvWeight, qkvBias,
                reader.read(prefix + "attention.output.dense.weight", hidden, hidden),
                reader.read(prefix + "attention.output.dense.bias", hidden),
                reader.read(prefix + "layernorm_after.weight", hidden), reader.read(prefix + "layernorm_after.bias", hidden),
                reader.read(prefix + "intermediate.dense.weight", mlp, hidden), reader.read(prefix + "intermediate.dense.bias", mlp),
                reader.read(prefix + "output.dense.weight", hidden, mlp), reader.read(prefix + "output.dense.bias", hidden));
    }

    /** Query, key and value stacked along the output axis, so one matrix product makes all three. */
    private static NDArray fuse(NDArray query, NDArray key, NDArray value) {
        NDArray fused = NDArrays.concat(new NDList(query, key, value), 0);
        query.close();
        key.close();
        value.close();
        return fused;
    }

    /**
     * Copies tensors into arrays of the network's manager, through one reused staging buffer. DJL wraps only direct
     * {@link ByteBuffer}s without copying, and {@link ModelWeights} hands out {@link FloatBuffer}s, so each tensor is
     * copied once into libtorch's memory; DJL would otherwise copy into a new direct buffer per tensor, which counts
     * against the JVM's direct memory limit and is freed only by the garbage collector.
     */
    private static final class Reader {

        private final ModelWeights weights;
        private final VitConfig config;
        private final NDManager manager;
        private ByteBuffer staging = ByteBuffer.allocateDirect(0);

        Reader(ModelWeights weights, VitConfig config, NDManager manager) {
            this.weights = weights;
            this.config = config;
            this.manager = manager;
        }

        NDArray read(String name, long... shape) throws BackendException {
            if (!weights.contains(name)) {
                throw new BackendException(weights.file() + " has no tensor '" + name + "': vitserve builds Hugging Face's"
                        + " ViTForImageClassification and needs its parameters under their Hugging Face names"
                        + " (vit.embeddings.*, vit.encoder.layer.N.*, vit.layernorm.*, classifier.*)");
            }
            long[] found = weights.shape(name);
            if (!Arrays.equals(found, shape)) {
                throw new BackendException("tensor '" + name + "' in " + weights.file() + " has shape "
                        + Arrays.toString(found) + ", but config.json (" + summary() + ") needs " + Arrays.toString(shape));
            }
            FloatBuffer values;
            try {
                values = weights.floats(name);
            } catch (IllegalArgumentException e) {
                throw new BackendException("cannot read tensor '" + name + "' of " + weights.file() + ": " + e.getMessage(), e);
            }
            NDArray array = copy(values.duplicate(), new Shape(shape));
            array.setName(name);
            return array;
        }

        private NDArray copy(FloatBuffer values, Shape shape) {
            int bytes = Math.toIntExact((long) values.remaining() * Float.BYTES);
            if (staging.capacity() < bytes) {
                staging = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
            }
            staging.clear().limit(bytes);
            staging.asFloatBuffer().put(values);
            // on the CPU this array is a view of the staging buffer, on a GPU already a copy in device memory
            NDArray staged = manager.create(staging, shape, DataType.FLOAT32);
            if (manager.getDevice().isGpu()) {
                return staged;
            }
            NDArray owned = staged.duplicate();
            staged.close();
            return owned;
        }

        private String summary() {
            return "hidden_size " + config.hiddenSize() + ", intermediate_size " + config.intermediateSize()
                    + ", num_channels " + config.numChannels() + ", patch_size " + config.patchSize() + ", image size "
                    + config.imageHeight() + "x" + config.imageWidth() + ", " + config.numLabels() + " labels";
        }
    }
}
