package dev.vitserve.backend.onnx;

import static dev.vitserve.backend.onnx.OnnxNodes.in;
import static dev.vitserve.backend.onnx.OnnxNodes.integer;
import static dev.vitserve.backend.onnx.OnnxNodes.ints;
import static dev.vitserve.backend.onnx.OnnxNodes.real;

import dev.vitserve.api.BackendException;
import dev.vitserve.api.ModelWeights;
import dev.vitserve.api.VitConfig;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What every network of the ViT family that vitserve builds for ONNX Runtime shares: the tensors of
 * {@code model.safetensors} checked against {@code config.json} and handed to ONNX Runtime from memory, and the pieces
 * of a pre-LayerNorm encoder (patch embedding, layer norm, linear layers, multi-head attention, the classifier head), in
 * float32, or with the encoder's linear layers on int8 weights ({@link #quantizedLinear}). An architecture's builder
 * extends it with {@link #network()}; {@link ArchitectureGraphs} picks the builder.
 */
abstract class EncoderGraphBuilder {

    /** The activation built for the MLP: exact (erf) GELU, as {@code hidden_act: gelu} means in transformers. */
    static final String GELU = "gelu";

    protected final VitConfig config;
    protected final ModelWeights weights;
    protected final OnnxNodes g;
    private final Map<String, VitGraph.Weight> supplied = new LinkedHashMap<>();
    /** The int8 weights' range, or null for a float32 network. */
    protected final Int8WeightRange int8;
    /** The int8 layers, or null for a float32 network. */
    private final QuantizedLinears quantized;

    protected EncoderGraphBuilder(VitConfig config, ModelWeights weights, Int8WeightRange int8) {
        this.config = config;
        this.weights = weights;
        this.int8 = int8;
        this.g = new OnnxNodes("vitserve-" + config.architecture().modelType());
        this.quantized = int8 == null ? null : new QuantizedLinears(g, supplied, this::floats, int8);
    }

    /** Adds the whole network: input {@code pixel_values}, outputs {@code logits} and {@code embeddings}. */
    protected abstract void network() throws BackendException;

    /** The prefix of the base model's parameters, e.g. {@code vit.}, for messages about a headless checkpoint. */
    protected abstract String basePrefix();

    /** Builds the network and hands it over with its weights. */
    final VitGraph graph() throws BackendException {
        requireGelu();
        network();
        return new VitGraph(g.model("vitserve", true), supplied, quantized == null ? 0 : quantized.layers(),
                quantized == null ? 0 : quantized.nanos());
    }

    private void requireGelu() throws BackendException {
        if (!GELU.equals(config.hiddenAct())) {
            throw new BackendException("config.json has hidden_act '" + config.hiddenAct() + "', but vitserve builds "
                    + config.architecture().className() + " networks with hidden_act '" + GELU + "' (exact erf GELU)"
                    + " only; export the model to onnx/model.onnx instead");
        }
    }

    /** The graph's input, {@code pixel_values} [batch, C, H, W]. */
    protected void pixelInput() {
        g.floatInput(OnnxSignature.PIXEL_INPUT, "batch", (long) config.numChannels(), (long) config.imageHeight(),
                (long) config.imageWidth());
    }

    /** The patches through the Conv projection (kernel = stride = patch), as tokens [batch, patches, hidden]. */
    protected String patchTokens(String projection) throws BackendException {
        int hidden = config.hiddenSize();
        int patch = config.patchSize();
        String conv = g.op("Conv", in(OnnxSignature.PIXEL_INPUT,
                weight(projection + ".weight", hidden, config.numChannels(), patch, patch),
                weight(projection + ".bias", hidden)),
                ints("kernel_shape", patch, patch), ints("strides", patch, patch));
        return g.op("Transpose", in(g.op("Reshape", in(conv, g.int64s(0, hidden, -1)))), ints("perm", 0, 2, 1));
    }

    /** A [1, n, hidden] parameter repeated for every image of the batch: [batch, n, hidden]. */
    protected String perImage(String parameter, int tokens) {
        String batch = g.op("Shape", in(OnnxSignature.PIXEL_INPUT), integer("end", 1));
        String shape = g.op("Concat", in(batch, g.int64s(tokens, config.hiddenSize())), integer("axis", 0));
        return g.op("Expand", in(parameter, shape));
    }

    /** Tokens {@code [from, to)} of [batch, tokens, hidden] states. */
    protected String tokens(String states, int from, int to) {
        return g.op("Slice", in(states, g.int64s(from), g.int64s(to), g.int64s(1)));
    }

    /** Token {@code index} of [batch, tokens, hidden] states, as [batch, hidden]. */
    protected String token(String states, int index) {
        return g.op("Reshape", in(g.op("Gather", in(states, g.int64s(index)), integer("axis", 1)),
                g.int64s(0, config.hiddenSize())));
    }

    /**
     * Self-attention through its output projection. Q, K and V are projected apart (no weight copies; in an int8
     * network, one quantized product split in three) and ONNX Runtime's fused {@code MultiHeadAttention} does the
     * rest: head split, softmax(Q K^T / sqrt(head_size)) V, head merge.
     *
     * @param self the prefix of query, key and value, e.g. {@code vit.encoder.layer.0.attention.attention.}
     * @param output the output projection, e.g. {@code vit.encoder.layer.0.attention.output.dense}
     */
    protected String attention(String self, String output, String x) throws BackendException {
        int hidden = config.hiddenSize();
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
        return encoderLinear(output, context, hidden, hidden, true);
    }

    /** Exact GELU. */
    protected String gelu(String x) {
        return g.opIn(OnnxNodes.MICROSOFT, "Gelu", in(x));
    }

    /** The embedding as the graph's {@code embeddings} output, and the classifier on it as {@code logits}. */
    protected void outputs(String embedding, String logits) {
        g.opTo(OnnxSignature.EMBEDDINGS_OUTPUT, "Identity", in(embedding));
        g.floatOutput(OnnxSignature.EMBEDDINGS_OUTPUT, "batch", (long) config.embeddingSize());
        g.opTo(OnnxSignature.LOGITS_OUTPUT, "Identity", in(logits));
        g.floatOutput(OnnxSignature.LOGITS_OUTPUT, "batch", (long) config.numLabels());
    }

    /** A classifier head {@code x W^T + b}, in float32: [batch, inputs] to [batch, labels]. */
    protected String classifier(String name, String x, int inputs) throws BackendException {
        return g.op("Gemm", in(x, weight(name + ".weight", config.numLabels(), inputs),
                weight(name + ".bias", config.numLabels())), integer("transB", 1));
    }

    /** A linear layer of the encoder: quantized in an int8 network, else {@link #linear}. */
    protected String encoderLinear(String name, String x, int outputs, int inputs, boolean bias) throws BackendException {
        return int8 != null ? quantizedLinear(name, List.of(name), x, List.of(outputs), inputs, bias)[0]
                : linear(name, x, outputs, inputs, bias);
    }

    /**
     * Linear layers reading the same input, as one int8 product ({@link QuantizedLinears#apply}).
     *
     * @return the output of each layer, in the order of {@code names}
     */
    protected String[] quantizedLinear(String name, List<String> names, String x, List<Integer> outputs, int inputs,
                                     boolean bias) throws BackendException {
        return quantized.apply(name, names, x, outputs, inputs, bias);
    }

    /** {@code x W^T + b} on the PyTorch [out, in] weight as stored: ONNX Runtime packs it transposed itself. */
    protected String linear(String name, String x, int outputs, int inputs, boolean bias) throws BackendException {
        String product = g.opIn(OnnxNodes.MICROSOFT, "FusedMatMul", in(x, weight(name + ".weight", outputs, inputs)),
                integer("transB", 1));
        return bias ? g.op("Add", in(product, weight(name + ".bias", outputs))) : product;
    }

    protected String layerNorm(String name, String x) throws BackendException {
        int hidden = config.hiddenSize();
        return g.op("LayerNormalization", in(x, weight(name + ".weight", hidden), weight(name + ".bias", hidden)),
                integer("axis", -1), real("epsilon", (float) config.layerNormEps()));
    }

    /** A tensor of the file, checked, as an initializer of the same name. */
    protected String weight(String name, long... shape) throws BackendException {
        if (supplied.containsKey(name)) {
            // read twice (DeiT's final LayerNorm on each head's token): one initializer
            return name;
        }
        return supply(name, VitGraph.Weight.floats(floats(name, shape), shape));
    }

    /** An initializer whose values ONNX Runtime gets from memory: a placeholder marked as external data. */
    protected String supply(String name, VitGraph.Weight weight) {
        g.placeholder(name, weight);
        supplied.put(name, weight);
        return name;
    }

    /** A tensor's values after checking it exists with the shape config.json implies. */
    protected FloatBuffer floats(String name, long... shape) throws BackendException {
        if (!weights.contains(name)) {
            String prefix = basePrefix();
            String headless = name.startsWith(prefix) && weights.contains(name.substring(prefix.length()))
                    ? " (its tensors lack the '" + prefix + "' prefix: it looks like the base model without the"
                    + " classification head)"
                    : "";
            throw new BackendException(weights.file() + " has no tensor '" + name + "': vitserve builds the network of a"
                    + " Hugging Face " + config.architecture().className() + ", and this checkpoint is not one or is"
                    + " incomplete" + headless + "; or export the model to onnx/model.onnx");
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

    protected String describeConfig() {
        return " (hidden_size " + config.hiddenSize() + ", intermediate_size " + config.intermediateSize()
                + ", patch_size " + config.patchSize() + ", image_size " + config.imageHeight() + "x" + config.imageWidth()
                + ", num_channels " + config.numChannels() + ", " + config.numLabels() + " labels)";
    }
}
