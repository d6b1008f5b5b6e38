package dev.vitserve.backend.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.ModelWeights;
import dev.vitserve.api.VitConfig;
import dev.vitserve.api.arch.Deit;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The parameters of a Hugging Face {@code ViTForImageClassification} or DeiT classifier, read from its safetensors weights under Hugging
 * Face's names, checked against {@code config.json}, and laid out for the forward pass: query, key and value fused
 * into one projection with the attention scale folded into the query rows, and the front tokens' position embeddings
 * added to them once. Every array belongs to the manager given to {@link #load}, in the network's data type: the
 * arithmetic above is done in float32 as read, then each array is cast once (bfloat16 for {@code --precision bf16}).
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
    /**
     * The tokens before the patches, each plus its position embedding, {@code [1, front, hidden]}: the class token,
     * and for DeiT the distillation token.
     */
    final NDArray frontTokens;
    /** The position embeddings of the patches, {@code [1, patches, hidden]}. */
    final NDArray patchPositions;
    final List<Layer> layers;
    final NDArray finalNormWeight;
    final NDArray finalNormBias;
    /** Classifier {@code [labels, hidden]} and bias {@code [labels]} (DeiT with teacher: the class token's head). */
    final NDArray classifierWeight;
    final NDArray classifierBias;
    /** DeiT with teacher: the distillation token's head; else null. */
    final NDArray distillationWeight;
    final NDArray distillationBias;
    /** The data type of every array above: float32, bfloat16 or float16. */
    final ComputeType computeType;

    private VitParameters(WeightReader reader, VitConfig config, ComputeType computeType) throws BackendException {
        this.computeType = computeType;
        Deit deit = config.architecture() instanceof Deit d ? d : null;
        String base = deit != null ? "deit." : "vit.";
        int front = deit != null ? 2 : 1;
        long hidden = config.hiddenSize();
        long patch = config.patchSize();
        patchWeight = cast(reader.read(base + "embeddings.patch_embeddings.projection.weight", hidden,
                config.numChannels(), patch, patch));
        patchBias = cast(reader.read(base + "embeddings.patch_embeddings.projection.bias", hidden));
        NDArray token = reader.read(base + "embeddings.cls_token", 1, 1, hidden);
        NDArray tokens = deit == null ? token : NDArrays.concat(new NDList(token,
                reader.read(base + "embeddings.distillation_token", 1, 1, hidden)), 1);
        NDArray positions = reader.read(base + "embeddings.position_embeddings", 1, config.numPatches() + (long) front,
                hidden);
        try (NDArray frontPositions = positions.get(":, :" + front + ", :")) {
            frontTokens = cast(tokens.addi(frontPositions));
        }
        if (tokens != token && !token.isReleased()) {
            token.close();
        }
        patchPositions = cast(positions.get(":, " + front + ":, :"));
        positions.close();
        layers = new ArrayList<>(config.numLayers());
        for (int i = 0; i < config.numLayers(); i++) {
            layers.add(layer(reader, config, base + "encoder.layer." + i + ".", this::cast));
        }
        finalNormWeight = cast(reader.read(base + "layernorm.weight", hidden));
        finalNormBias = cast(reader.read(base + "layernorm.bias", hidden));
        String head = deit != null && deit.withTeacher() ? "cls_classifier" : "classifier";
        classifierWeight = cast(reader.read(head + ".weight", config.numLabels(), hidden));
        classifierBias = cast(reader.read(head + ".bias", config.numLabels()));
        boolean teacher = deit != null && deit.withTeacher();
        distillationWeight = teacher ? cast(reader.read("distillation_classifier.weight", config.numLabels(), hidden)) : null;
        distillationBias = teacher ? cast(reader.read("distillation_classifier.bias", config.numLabels())) : null;
    }

    /** The array in the network's data type: kept when it is already, else cast and closed. */
    private NDArray cast(NDArray array) {
        NDArray cast = computeType.in(array);
        if (cast != array) {
            cast.setName(array.getName());
            array.close();
        }
        return cast;
    }

    /**
     * Reads every tensor the network needs into {@code manager} (on the network's device), in the compute type.
     *
     * @throws BackendException naming the tensor when one is missing, has another shape than config.json implies,
     *     or is not a float type
     */
    static VitParameters load(VitConfig config, ModelWeights weights, NDManager manager, ComputeType computeType)
            throws BackendException {
        String base = config.architecture() instanceof Deit ? "deit." : "vit.";
        return new VitParameters(new WeightReader(weights, config, manager, base + "embeddings.*, " + base
                + "encoder.layer.N.*, " + base + "layernorm.*, " + (config.architecture() instanceof Deit d
                && d.withTeacher() ? "cls_classifier.*, distillation_classifier.*" : "classifier.*")), config, computeType);
    }

    private static Layer layer(WeightReader reader, VitConfig config, String prefix, UnaryOperator<NDArray> cast)
            throws BackendException {
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
                cast.apply(reader.read(prefix + "layernorm_before.weight", hidden)),
                cast.apply(reader.read(prefix + "layernorm_before.bias", hidden)),
                cast.apply(qkvWeight), qkvBias == null ? null : cast.apply(qkvBias),
                cast.apply(reader.read(prefix + "attention.output.dense.weight", hidden, hidden)),
                cast.apply(reader.read(prefix + "attention.output.dense.bias", hidden)),
                cast.apply(reader.read(prefix + "layernorm_after.weight", hidden)),
                cast.apply(reader.read(prefix + "layernorm_after.bias", hidden)),
                cast.apply(reader.read(prefix + "intermediate.dense.weight", mlp, hidden)),
                cast.apply(reader.read(prefix + "intermediate.dense.bias", mlp)),
                cast.apply(reader.read(prefix + "output.dense.weight", hidden, mlp)),
                cast.apply(reader.read(prefix + "output.dense.bias", hidden)));
    }

    /** Query, key and value stacked along the output axis, so one matrix product makes all three. */
    private static NDArray fuse(NDArray query, NDArray key, NDArray value) {
        NDArray fused = NDArrays.concat(new NDList(query, key, value), 0);
        query.close();
        key.close();
        value.close();
        return fused;
    }
}
