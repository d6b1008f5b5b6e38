package dev.vitserve.backend.onnx;

import static dev.vitserve.backend.onnx.OnnxNodes.in;
import static dev.vitserve.backend.onnx.OnnxNodes.integer;
import static dev.vitserve.backend.onnx.OnnxNodes.ints;
import static dev.vitserve.backend.onnx.OnnxNodes.real;

import dev.vitserve.api.BackendException;
import dev.vitserve.api.ModelWeights;
import dev.vitserve.api.VitConfig;
import java.nio.FloatBuffer;
import java.util.ArrayList;
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
    /** Each layer's A' of the attention rollout so far (the last layer's: the class token's row only). */
    private final List<String> rolloutSteps = new ArrayList<>();

    protected EncoderGraphBuilder(VitConfig config, ModelWeights weights, Int8WeightRange int8) {
        this.config = config;
        this.weights = weights;
        this.int8 = int8;
        this.g = new OnnxNodes("vitserve-" + config.architecture().modelType());
        this.quantized = int8 == null ? null : new QuantizedLinears(g, supplied, this::floats, int8);
    }

    /**
     * Adds the whole network: input {@code pixel_values}, outputs {@code logits} and {@code embeddings}, and where
     * rollout applies the input {@code rollout_images} and output {@code attention_rollout}.
     */
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

    /**
     * The graph's inputs: {@code pixel_values} [batch, C, H, W] and, when the architecture {@link #rollsOut()},
     * {@code rollout_images} int64 [explained]: the images of the batch whose attention rollout is asked (empty: none,
     * and the rollout's operators then run on empty tensors, which costs next to nothing).
     */
    protected void pixelInput() {
        g.floatInput(OnnxSignature.PIXEL_INPUT, "batch", (long) config.numChannels(), (long) config.imageHeight(),
                (long) config.imageWidth());
        if (rollsOut()) {
            g.int64Input(OnnxSignature.ROLLOUT_INPUT, "explained");
        }
    }

    /** Whether every token attends to every other (rollout is defined): true but for Swin's windows. */
    protected boolean rollsOut() {
        return true;
    }

    /**
     * One layer's step of the attention rollout (Abnar and Zuidema 2020), built where the layer's query and key are
     * made (so that nothing of them is kept for later when no image is picked): its A' ({@link #rolloutStep}), for the
     * last layer only the class token's row; {@link #rolloutOutput()} multiplies them.
     *
     * @param q the projected queries [batch, tokens, hidden], before scaling
     * @param k the projected keys [batch, tokens, hidden]
     * @param bias added to the scores [1, heads, tokens, tokens] (BEiT's relative position bias), or null
     */
    protected void rolloutLayer(String q, String k, String bias) {
        rolloutSteps.add(rolloutStep(q, k, bias, rolloutSteps.size() == config.numLayers() - 1));
    }

    /**
     * One layer's A' for the images {@code rollout_images} picks: the attention probabilities
     * {@code softmax(q k^T / sqrt(head_size) + bias)} averaged over the heads, A, then {@code A' = (A + I) / 2} (A's rows
     * sum to 1: this is A plus the identity, rows renormalized). With {@code classOnly}, only the class token's row
     * [explained, 1, tokens], from its query alone.
     */
    private String rolloutStep(String query, String key, String scoreBias, boolean classOnly) {
        String picked = OnnxSignature.ROLLOUT_INPUT;
        String split = g.int64s(0, 0, config.numHeads(), config.headSize());
        String q = g.op("Gather", in(query, picked), integer("axis", 0));
        if (classOnly) {
            q = tokens(q, 0, 1);
        }
        String queries = g.op("Transpose", in(g.op("Reshape", in(q, split))), ints("perm", 0, 2, 1, 3));
        String keys = g.op("Transpose", in(g.op("Reshape", in(g.op("Gather", in(key, picked), integer("axis", 0)),
                split))), ints("perm", 0, 2, 3, 1));
        String scores = g.op("Mul", in(g.op("MatMul", in(queries, keys)),
                g.floats((float) (1.0 / Math.sqrt(config.headSize())))));
        if (scoreBias != null) {
            String bias = classOnly
                    ? g.op("Slice", in(scoreBias, g.int64s(0), g.int64s(1), g.int64s(2))) : scoreBias;
            scores = g.op("Add", in(scores, bias));
        }
        String averaged = g.op("ReduceMean", in(g.op("Softmax", in(scores), integer("axis", -1))), ints("axes", 1),
                integer("keepdims", 0));
        // the identity's rows [queries, tokens], made from the scores' shape so that it exists with no image picked
        String square = g.op("Slice", in(g.op("Shape", in(averaged)), g.int64s(1), g.int64s(3)));
        String identity = g.op("EyeLike", in(g.op("ConstantOfShape", in(square))));
        return g.op("Mul", in(g.op("Add", in(averaged, identity)), g.floats(0.5f)));
    }

    /**
     * The class token's row of the rollout {@code A'_L ... A'_1} over the patch tokens (the last {@code numPatches}) as
     * an output: the last layer's class row, then times each earlier layer's A' from the right (vector times matrix,
     * never a full product of two layers).
     */
    private void rolloutOutput() {
        String row = rolloutSteps.get(rolloutSteps.size() - 1);
        for (int l = rolloutSteps.size() - 2; l >= 0; l--) {
            row = g.op("MatMul", in(row, rolloutSteps.get(l)));
        }
        // Squeeze, not Reshape: with no image picked there is no -1 to infer
        String patches = g.op("Squeeze", in(row, g.int64s(1)));
        g.opTo(OnnxSignature.ROLLOUT_OUTPUT, "Slice", in(patches, g.int64s(-config.numPatches()),
                g.int64s(Integer.MAX_VALUE), g.int64s(1)));
        g.floatOutput(OnnxSignature.ROLLOUT_OUTPUT, "explained", (long) config.numPatches());
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
        rolloutLayer(qkv[0], qkv[1], null);
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
        if (rollsOut()) {
            rolloutOutput();
        }
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
