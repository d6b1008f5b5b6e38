package dev.vitserve.backend.onnx;

import static dev.vitserve.backend.onnx.OnnxNodes.in;
import static dev.vitserve.backend.onnx.OnnxNodes.integer;
import static dev.vitserve.backend.onnx.OnnxNodes.ints;
import static dev.vitserve.backend.onnx.OnnxNodes.real;

import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.ModelWeights;
import dev.vitserve.api.VitConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the ONNX network of a Hugging Face {@code ViTForImageClassification} (modeling_vit.py) from its
 * {@code config.json} and the tensors of {@code model.safetensors}, checking every tensor's shape; in float32, or
 * with the encoder's linear layers quantized to int8 ({@link #buildInt8}).
 */
final class VitGraphBuilder {

    /** The only activation built: exact (erf) GELU, as {@code hidden_act: gelu} means in transformers. */
    static final String GELU = "gelu";

    /** Where ONNX Runtime is told the weights are; they are always supplied from memory instead. */
    private static final String IN_MEMORY = "vitserve-weights-in-memory";

    private final VitConfig config;
    private final ModelWeights weights;
    private final OnnxNodes g = new OnnxNodes("vitserve-vit");
    private final Map<String, VitGraph.Weight> supplied = new LinkedHashMap<>();
    /** The int8 weights' range, or null for a float32 network. */
    private final Int8WeightRange int8;
    private int quantizedLinears;
    private long quantizeNanos;

    private VitGraphBuilder(VitConfig config, ModelWeights weights, Int8WeightRange int8) {
        this.config = config;
        this.weights = weights;
        this.int8 = int8;
    }

    /**
     * Builds the network: input {@code pixel_values} [batch, C, H, W], outputs {@code logits} [batch, labels]
     * and {@code embeddings} [batch, hidden] (the final-layernormed class token the classifier reads).
     *
     * @throws BackendException when hidden_act is not gelu, or a tensor is missing or has the wrong shape
     */
    static VitGraph build(VitConfig config, ModelWeights weights) throws BackendException {
        return build(config, weights, null);
    }

    /**
     * Builds the network with every linear layer of the encoder (query, key, value, attention output, MLP up and
     * down) on int8 weights, symmetric per output channel, and uint8 activations quantized per tensor at run time
     * by ONNX Runtime's {@code DynamicQuantizeMatMul}; query, key and value run as one product. The patch
     * embedding, the layer norms, attention's softmax and the classifier head stay float32.
     *
     * @throws BackendException as {@link #build(VitConfig, ModelWeights)}
     */
    static VitGraph buildInt8(VitConfig config, ModelWeights weights, Int8WeightRange range) throws BackendException {
        return build(config, weights, range);
    }

    private static VitGraph build(VitConfig config, ModelWeights weights, Int8WeightRange int8) throws BackendException {
        if (!GELU.equals(config.hiddenAct())) {
            throw new BackendException("config.json has hidden_act '" + config.hiddenAct() + "', but vitserve builds ViT"
                    + " networks with hidden_act '" + GELU + "' (exact erf GELU) only; export the model to onnx/model.onnx instead");
        }
        VitGraphBuilder builder = new VitGraphBuilder(config, weights, int8);
        builder.network();
        return new VitGraph(builder.g.model("vitserve", true), builder.supplied, builder.quantizedLinears,
                builder.quantizeNanos);
    }

    private void network() throws BackendException {
        int hidden = config.hiddenSize();
        g.floatInput(OnnxSignature.PIXEL_INPUT, "batch", (long) config.numChannels(), (long) config.imageHeight(),
                (long) config.imageWidth());
        String h = embeddings();
        for (int i = 0; i < config.numLayers(); i++) {
            h = layer("vit.encoder.layer." + i + ".", h);
        }
        // the final LayerNorm works token by token, so only the class token needs it
        String clsToken = g.op("Gather", in(h, g.int64s(0)), integer("axis", 1));
        String cls = layerNorm("vit.layernorm", g.op("Reshape", in(clsToken, g.int64s(0, hidden))));
        // the vector the classifier reads is an output of the same run: the embedding
        g.opTo(OnnxSignature.EMBEDDINGS_OUTPUT, "Identity", in(cls));
        g.floatOutput(OnnxSignature.EMBEDDINGS_OUTPUT, "batch", (long) hidden);
        g.opTo(OnnxSignature.LOGITS_OUTPUT, "Gemm", in(cls, weight("classifier.weight", config.numLabels(), hidden),
                weight("classifier.bias", config.numLabels())), integer("transB", 1));
        g.floatOutput(OnnxSignature.LOGITS_OUTPUT, "batch", (long) config.numLabels());
    }

    /** Patches through the Conv projection, the class token in front, plus the position embeddings. */
    private String embeddings() throws BackendException {
        int hidden = config.hiddenSize();
        int patch = config.patchSize();
        String prefix = "vit.embeddings.";
        String conv = g.op("Conv", in(OnnxSignature.PIXEL_INPUT,
                weight(prefix + "patch_embeddings.projection.weight", hidden, config.numChannels(), patch, patch),
                weight(prefix + "patch_embeddings.projection.bias", hidden)),
                ints("kernel_shape", patch, patch), ints("strides", patch, patch));
        String patches = g.op("Transpose", in(g.op("Reshape", in(conv, g.int64s(0, hidden, -1)))), ints("perm", 0, 2, 1));
        String batch = g.op("Shape", in(OnnxSignature.PIXEL_INPUT), integer("end", 1));
        String clsShape = g.op("Concat", in(batch, g.int64s(1, 1)), integer("axis", 0));
        String cls = g.op("Expand", in(weight(prefix + "cls_token", 1, 1, hidden), clsShape));
        String tokens = g.op("Concat", in(cls, patches), integer("axis", 1));
        return g.op("Add", in(tokens, weight(prefix + "position_embeddings", 1, config.numPatches() + 1, hidden)));
    }

    /** One pre-LN encoder layer: attention and MLP, each added to the residual stream. */
    private String layer(String prefix, String h) throws BackendException {
        String attended = g.op("Add", in(h, attention(prefix + "attention.", layerNorm(prefix + "layernorm_before", h))));
        String up = encoderLinear(prefix + "intermediate.dense", layerNorm(prefix + "layernorm_after", attended),
                config.intermediateSize(), config.hiddenSize(), true);
        String activated = g.opIn(OnnxNodes.MICROSOFT, "Gelu", in(up));
        return g.op("Add", in(attended, encoderLinear(prefix + "output.dense", activated, config.hiddenSize(),
                config.intermediateSize(), true)));
    }

    /**
     * Self-attention of one layer through its output projection. Q, K and V are projected apart (no weight
     * copies; in an int8 network, one quantized product split in three) and ONNX Runtime's fused
     * {@code MultiHeadAttention} does the rest: head split, softmax(Q K^T / sqrt(head_size)) V, head merge.
     */
    private String attention(String prefix, String x) throws BackendException {
        int hidden = config.hiddenSize();
        String self = prefix + "attention.";
        String[] qkv;
        if (int8 != null) {
            qkv = quantizedLinear(self + "query_key_value", List.of(self + "query", self + "key", self + "value"), x,
                    List.of(hidden, hidden, hidden), hidden, config.qkvBias());
        } else {
            qkv = new String[] {linear(self + "query", x, hidden, hidden, config.qkvBias()),
                linear(self + "key", x, hidden, hidden, config.qkvBias()),
                linear(self + "value", x, hidden, hidden, config.qkvBias())};
        }
        String context = g.opIn(OnnxNodes.MICROSOFT, "MultiHeadAttention", in(qkv),
                integer("num_heads", config.numHeads()), real("scale", (float) (1.0 / Math.sqrt(config.headSize()))));
        return encoderLinear(prefix + "output.dense", context, hidden, hidden, true);
    }

    /** A linear layer of the encoder: quantized in an int8 network, else {@link #linear}. */
    private String encoderLinear(String name, String x, int outputs, int inputs, boolean bias) throws BackendException {
        return int8 != null ? quantizedLinear(name, List.of(name), x, List.of(outputs), inputs, bias)[0]
                : linear(name, x, outputs, inputs, bias);
    }

    /**
     * Linear layers reading the same input, as one {@code com.microsoft DynamicQuantizeMatMul}: x quantized to uint8
     * per tensor at run time, times the int8 weights of all layers side by side, scaled per output channel back to
     * float32, plus the biases; the product split back into the layers' outputs. The columns are padded to whole
     * 16-column tiles ({@link WeightQuantizer#COLUMN_ALIGNMENT}) and the padding cut off again, so that no width
     * reaches the columns ONNX Runtime's AMX kernel gets wrong. {@code name} names the new initializers.
     *
     * @return the output of each layer, in the order of {@code names}
     */
    private String[] quantizedLinear(String name, List<String> names, String x, List<Integer> outputs, int inputs,
                                     boolean bias) throws BackendException {
        List<FloatBuffer> floats = new ArrayList<>();
        for (int k = 0; k < names.size(); k++) {
            floats.add(floats(names.get(k) + ".weight", outputs.get(k), inputs));
        }
        long start = System.nanoTime();
        WeightQuantizer.Quantized q = WeightQuantizer.quantize(floats, outputs, inputs, int8.maxMagnitude(),
                WeightQuantizer.COLUMN_ALIGNMENT);
        quantizeNanos += System.nanoTime() - start;
        quantizedLinears += names.size();
        String values = supply(name + ".weight_int8", VitGraph.Weight.int8s(q.values(), new long[] {inputs, q.outputs()}));
        String scales = supply(name + ".weight_scale", VitGraph.Weight.floats(q.scales(), new long[] {q.outputs()}));
        String product;
        if (!bias) {
            product = g.opIn(OnnxNodes.MICROSOFT, "DynamicQuantizeMatMul", in(x, values, scales));
        } else {
            String biases = names.size() == 1 && !q.padded() ? weight(names.get(0) + ".bias", outputs.get(0))
                    : supply(name + ".bias", VitGraph.Weight.floats(concatenated(names, outputs, q.outputs()),
                            new long[] {q.outputs()}));
            product = g.opIn(OnnxNodes.MICROSOFT, "DynamicQuantizeMatMul", in(x, values, scales, "", biases));
        }
        return split(product, outputs, q.outputs());
    }

    /** The layers' outputs side by side in {@code product}, the padding after them dropped. */
    private String[] split(String product, List<Integer> outputs, int columns) {
        int used = outputs.stream().mapToInt(Integer::intValue).sum();
        if (outputs.size() == 1) {
            return new String[] {used == columns ? product
                    : g.op("Slice", in(product, g.int64s(0), g.int64s(used), g.int64s(-1)))};
        }
        long[] sizes = new long[outputs.size() + (used == columns ? 0 : 1)];
        for (int k = 0; k < outputs.size(); k++) {
            sizes[k] = outputs.get(k);
        }
        if (used != columns) {
            sizes[outputs.size()] = columns - used;
        }
        return Arrays.copyOf(g.ops("Split", sizes.length, in(product, g.int64s(sizes)), integer("axis", -1)),
                outputs.size());
    }

    /** The biases of several layers one after the other, then zeros up to {@code columns}. */
    private FloatBuffer concatenated(List<String> names, List<Integer> outputs, int columns) throws BackendException {
        FloatBuffer all = ByteBuffer.allocateDirect(columns * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        for (int k = 0; k < names.size(); k++) {
            all.put(floats(names.get(k) + ".bias", outputs.get(k)).duplicate());
        }
        // a direct buffer starts zeroed: the padding's biases are 0
        return all.position(0);
    }

    /** {@code x W^T + b} on the PyTorch [out, in] weight as stored: ONNX Runtime packs it transposed itself. */
    private String linear(String name, String x, int outputs, int inputs, boolean bias) throws BackendException {
        String product = g.opIn(OnnxNodes.MICROSOFT, "FusedMatMul", in(x, weight(name + ".weight", outputs, inputs)),
                integer("transB", 1));
        return bias ? g.op("Add", in(product, weight(name + ".bias", outputs))) : product;
    }

    private String layerNorm(String name, String x) throws BackendException {
        int hidden = config.hiddenSize();
        return g.op("LayerNormalization", in(x, weight(name + ".weight", hidden), weight(name + ".bias", hidden)),
                integer("axis", -1), real("epsilon", (float) config.layerNormEps()));
    }

    /** A tensor of the file, checked, as an initializer of the same name. */
    private String weight(String name, long... shape) throws BackendException {
        return supply(name, VitGraph.Weight.floats(floats(name, shape), shape));
    }

    /** An initializer whose values ONNX Runtime gets from memory: a placeholder marked as external data. */
    private String supply(String name, VitGraph.Weight weight) {
        TensorProto.Builder tensor = TensorProto.newBuilder()
                .setName(name)
                .setDataType((weight.type() == ai.onnxruntime.OnnxJavaType.FLOAT
                        ? TensorProto.DataType.FLOAT : TensorProto.DataType.INT8).getNumber())
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(entry("location", IN_MEMORY))
                .addExternalData(entry("offset", "0"))
                .addExternalData(entry("length", Long.toString(weight.bytes())));
        for (long dim : weight.shape()) {
            tensor.addDims(dim);
        }
        g.initializer(tensor.build());
        supplied.put(name, weight);
        return name;
    }

    private static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }

    /** A tensor's values after checking it exists with the shape config.json implies. */
    private FloatBuffer floats(String name, long... shape) throws BackendException {
        if (!weights.contains(name)) {
            String headless = name.startsWith("vit.") && weights.contains(name.substring("vit.".length()))
                    ? " (its tensors lack the 'vit.' prefix: it looks like a ViTModel without the classification head)"
                    : "";
            throw new BackendException(weights.file() + " has no tensor '" + name + "': vitserve builds the network of a"
                    + " Hugging Face ViTForImageClassification, and this checkpoint is not one or is incomplete" + headless
                    + "; or export the model to onnx/model.onnx");
        }
        long[] found = weights.shape(name);
        if (!Arrays.equals(found, shape)) {
            throw new BackendException("tensor '" + name + "' in " + weights.file() + " has shape " + Arrays.toString(found)
                    + ", but config.json needs " + Arrays.toString(shape) + describeConfig());
        }
        try {
            return weights.floats(name);
        } catch (IllegalArgumentException e) {
            throw new BackendException("cannot read tensor '" + name + "' of " + weights.file() + ": " + e.getMessage(), e);
        }
    }

    private String describeConfig() {
        return " (hidden_size " + config.hiddenSize() + ", intermediate_size " + config.intermediateSize()
                + ", patch_size " + config.patchSize() + ", image_size " + config.imageHeight() + "x" + config.imageWidth()
                + ", num_channels " + config.numChannels() + ", " + config.numLabels() + " labels)";
    }
}
