package dev.vitserve.backend.onnx;

import static dev.vitserve.backend.onnx.OnnxNodes.in;
import static dev.vitserve.backend.onnx.OnnxNodes.integer;
import static dev.vitserve.backend.onnx.OnnxNodes.ints;
import static dev.vitserve.backend.onnx.OnnxNodes.real;

import ai.onnx.proto.OnnxMl.TensorProto;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.ClipConfig;
import dev.vitserve.api.ModelWeights;
import dev.vitserve.api.VitConfig;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the two ONNX networks of a Hugging Face {@code CLIPModel} (modeling_clip.py) from {@code config.json} and
 * {@code model.safetensors}, checking every tensor's shape:
 * <ul>
 * <li>the image tower: {@code pixel_values} [batch, C, H, W] to {@code image_embeds} [batch, projection]: patch
 * convolution without bias, the class embedding in front, position embeddings, {@code pre_layrnorm}, the encoder,
 * {@code post_layernorm} on the class token, {@code visual_projection};</li>
 * <li>the text tower: {@code input_ids} [batch, length] (int64) to {@code text_embeds} [batch, projection]: token and
 * position embeddings, the encoder with causal self-attention, {@code final_layer_norm}, the token at the end of
 * text (the first {@code eos_token_id}, or the largest id for configs whose {@code eos_token_id} is the legacy 2),
 * {@code text_projection}.</li>
 * </ul>
 * For a {@code SiglipModel} (modeling_siglip.py) the image tower is the patch convolution with bias, position
 * embeddings (no class token, no pre-layernorm), the encoder, {@code post_layernorm} on every token and the
 * multihead attention pooling {@code head} (a learned probe attends over the tokens with the packed
 * {@code in_proj_weight} of torch's nn.MultiheadAttention, then {@code out_proj}, and a residual MLP after
 * {@code head.layernorm}); the text tower attends both ways (no mask: SigLIP's tokenizer gives no attention mask)
 * and its {@code final_layer_norm}ed last position goes through the linear {@code head} with bias.
 * Both encoders are CLIP's pre-LN layers ({@code layer_norm1}, attention with biased q/k/v/out projections,
 * {@code layer_norm2}, {@code fc1}, activation, {@code fc2}), attention in ONNX Runtime's fused
 * {@code MultiHeadAttention} as in {@link VitGraphBuilder}; in an int8 tower their linear layers are
 * {@link QuantizedLinears}, as the ViT family's. Embeddings are not normalized here.
 */
final class ClipGraphBuilder {

    static final String IMAGE_EMBEDS = "image_embeds";
    static final String INPUT_IDS = "input_ids";
    static final String TEXT_EMBEDS = "text_embeds";

    private final ModelWeights weights;
    private final OnnxNodes g;
    private final Map<String, VitGraph.Weight> supplied = new LinkedHashMap<>();
    /** The encoder's int8 layers, or null for a float32 tower. */
    private final QuantizedLinears quantized;

    private ClipGraphBuilder(ModelWeights weights, String name, Int8WeightRange int8) {
        this.weights = weights;
        this.g = new OnnxNodes(name);
        this.quantized = int8 == null ? null : new QuantizedLinears(g, supplied, this::floats, int8);
    }

    /** The finished tower with its weights. */
    private VitGraph graph() {
        return new VitGraph(g.model("vitserve", true), supplied, quantized == null ? 0 : quantized.layers(),
                quantized == null ? 0 : quantized.nanos());
    }

    /** One encoder's shape, for either tower. */
    private record Tower(String prefix, int hidden, int layers, int heads, int intermediate, double eps, String act,
                         boolean causal) {
    }

    /**
     * The image tower, in float32 when {@code int8} is null, else with the encoder's linear layers on int8 weights
     * ({@link QuantizedLinears}: query, key and value as one product, attention output, fc1, fc2); embeddings, layer
     * norms, attention scores, activations, SigLIP's pooling head and the projection stay float32.
     *
     * @throws BackendException when an activation is not built, or a tensor is missing or of the wrong shape
     */
    static VitGraph vision(ClipConfig config, ModelWeights weights, Int8WeightRange int8) throws BackendException {
        ClipGraphBuilder b = new ClipGraphBuilder(weights, "vitserve-clip-vision", int8);
        VitConfig v = config.vision();
        b.checkActivation("vision_config", v.hiddenAct());
        Tower tower = new Tower("vision_model.", v.hiddenSize(), v.numLayers(), v.numHeads(), v.intermediateSize(),
                v.layerNormEps(), v.hiddenAct(), false);
        OnnxNodes g = b.g;
        int hidden = v.hiddenSize();
        int patch = v.patchSize();
        String prefix = "vision_model.embeddings.";
        g.floatInput(OnnxSignature.PIXEL_INPUT, "batch", (long) v.numChannels(), (long) v.imageHeight(),
                (long) v.imageWidth());
        boolean siglip = config.family() == ClipConfig.Family.SIGLIP;
        String patchWeight = b.weight(prefix + "patch_embedding.weight", hidden, v.numChannels(), patch, patch);
        String conv = g.op("Conv", siglip ? in(OnnxSignature.PIXEL_INPUT, patchWeight,
                        b.weight(prefix + "patch_embedding.bias", hidden)) : in(OnnxSignature.PIXEL_INPUT, patchWeight),
                ints("kernel_shape", patch, patch), ints("strides", patch, patch));
        String patches = g.op("Transpose", in(g.op("Reshape", in(conv, g.int64s(0, hidden, -1)))), ints("perm", 0, 2, 1));
        if (siglip) {
            int count = v.numPatches();
            String h = g.op("Add", in(patches, b.weightAs(prefix + "position_embedding.weight",
                    new long[] {count, hidden}, new long[] {1, count, hidden})));
            h = b.layerNorm("vision_model.post_layernorm", b.encoder(tower, h), hidden, v.layerNormEps());
            String pooled = b.attentionPool(tower, "vision_model.head.", h);
            g.opTo(IMAGE_EMBEDS, "Reshape", in(pooled, g.int64s(0, hidden)));
            g.floatOutput(IMAGE_EMBEDS, "batch", (long) config.projectionDim());
            return b.graph();
        }
        String batch = g.op("Shape", in(OnnxSignature.PIXEL_INPUT), integer("end", 1));
        String clsShape = g.op("Concat", in(batch, g.int64s(1, hidden)), integer("axis", 0));
        String cls = g.op("Expand", in(b.weightAs(prefix + "class_embedding", new long[] {hidden},
                new long[] {1, 1, hidden}), clsShape));
        String tokens = g.op("Concat", in(cls, patches), integer("axis", 1));
        int positions = v.numPatches() + 1;
        String h = g.op("Add", in(tokens, b.weightAs(prefix + "position_embedding.weight",
                new long[] {positions, hidden}, new long[] {1, positions, hidden})));
        h = b.layerNorm("vision_model.pre_layrnorm", h, hidden, v.layerNormEps());
        h = b.encoder(tower, h);
        String first = g.op("Gather", in(h, g.int64s(0)), integer("axis", 1));
        String pooled = b.layerNorm("vision_model.post_layernorm", g.op("Reshape", in(first, g.int64s(0, hidden))),
                hidden, v.layerNormEps());
        g.opTo(IMAGE_EMBEDS, "Gemm", in(pooled, b.weight("visual_projection.weight", config.projectionDim(), hidden)),
                integer("transB", 1));
        g.floatOutput(IMAGE_EMBEDS, "batch", (long) config.projectionDim());
        return b.graph();
    }

    /**
     * The text tower, in float32 or int8 as {@link #vision}; the token embedding, pooling and head stay float32.
     *
     * @throws BackendException as {@link #vision}
     */
    static VitGraph text(ClipConfig config, ModelWeights weights, Int8WeightRange int8) throws BackendException {
        ClipGraphBuilder b = new ClipGraphBuilder(weights, "vitserve-clip-text", int8);
        ClipConfig.Text t = config.text();
        b.checkActivation("text_config", t.hiddenAct());
        boolean siglip = config.family() == ClipConfig.Family.SIGLIP;
        Tower tower = new Tower("text_model.", t.hiddenSize(), t.numLayers(), t.numHeads(), t.intermediateSize(),
                t.layerNormEps(), t.hiddenAct(), !siglip);
        OnnxNodes g = b.g;
        int hidden = t.hiddenSize();
        String prefix = "text_model.embeddings.";
        g.int64Input(INPUT_IDS, "batch", "length");
        String tokens = g.op("Gather", in(b.weight(prefix + "token_embedding.weight", t.vocabSize(), hidden), INPUT_IDS),
                integer("axis", 0));
        String length = g.op("Slice", in(g.op("Shape", in(INPUT_IDS)), g.int64s(1), g.int64s(2)));
        String positions = g.op("Slice", in(b.weight(prefix + "position_embedding.weight", t.maxPositions(), hidden),
                g.int64s(0), length, g.int64s(0)));
        String h = g.op("Add", in(tokens, positions));
        h = b.encoder(tower, h);
        h = b.layerNorm("text_model.final_layer_norm", h, hidden, t.layerNormEps());
        if (siglip) {
            String last = g.op("Gather", in(h, g.int64s(-1)), integer("axis", 1));
            g.opTo(TEXT_EMBEDS, "Gemm", in(g.op("Reshape", in(last, g.int64s(0, hidden))),
                    b.weight("text_model.head.weight", config.projectionDim(), hidden),
                    b.weight("text_model.head.bias", config.projectionDim())), integer("transB", 1));
            g.floatOutput(TEXT_EMBEDS, "batch", (long) config.projectionDim());
            return b.graph();
        }
        // where each row's end of text is: ArgMax gives the first of equal maxima, as torch.argmax does
        String scored = t.poolsAtLargestId() ? INPUT_IDS
                : g.op("Equal", in(INPUT_IDS, g.int64s(t.eosTokenId())));
        String at = g.op("ArgMax", in(g.op("Cast", in(scored), integer("to", TensorProto.DataType.FLOAT.getNumber()))),
                integer("axis", 1), integer("keepdims", 1));
        String pooled = g.op("GatherND", in(h, at), integer("batch_dims", 1));
        g.opTo(TEXT_EMBEDS, "Gemm", in(pooled, b.weight("text_projection.weight", config.projectionDim(), hidden)),
                integer("transB", 1));
        g.floatOutput(TEXT_EMBEDS, "batch", (long) config.projectionDim());
        return b.graph();
    }

    private void checkActivation(String where, String act) throws BackendException {
        if (!ClipConfig.ACTIVATIONS.contains(act)) {
            throw new BackendException("config.json's " + where + " has hidden_act '" + act + "', but vitserve builds"
                    + " CLIP towers with " + ClipConfig.ACTIVATIONS + " only");
        }
    }

    private String encoder(Tower tower, String h) throws BackendException {
        for (int i = 0; i < tower.layers(); i++) {
            String prefix = tower.prefix() + "encoder.layers." + i + ".";
            String attended = g.op("Add", in(h, attention(tower, prefix + "self_attn.",
                    layerNorm(prefix + "layer_norm1", h, tower.hidden(), tower.eps()))));
            String up = encoderLinear(prefix + "mlp.fc1", layerNorm(prefix + "layer_norm2", attended, tower.hidden(),
                    tower.eps()), tower.intermediate(), tower.hidden());
            h = g.op("Add", in(attended, encoderLinear(prefix + "mlp.fc2", activate(tower, up), tower.hidden(),
                    tower.intermediate())));
        }
        return h;
    }

    private String activate(Tower tower, String x) {
        return switch (tower.act()) {
            case "quick_gelu" -> g.opIn(OnnxNodes.MICROSOFT, "QuickGelu", in(x), real("alpha", 1.702f));
            // 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))): torch's gelu(approximate="tanh")
            case "gelu_pytorch_tanh" -> g.opIn(OnnxNodes.MICROSOFT, "FastGelu", in(x));
            default -> g.opIn(OnnxNodes.MICROSOFT, "Gelu", in(x));
        };
    }

    /**
     * SigLIP's multihead attention pooling head over tokens {@code [batch, tokens, hidden]}: {@code [batch, 1, hidden]}.
     */
    private String attentionPool(Tower tower, String prefix, String h) throws BackendException {
        int hidden = tower.hidden();
        String batch = g.op("Shape", in(h), integer("end", 1));
        String probe = g.op("Expand", in(weight(prefix + "probe", 1, 1, hidden),
                g.op("Concat", in(batch, g.int64s(1, hidden)), integer("axis", 0))));
        String a = prefix + "attention.";
        FloatBuffer packed = floats(a + "in_proj_weight", 3L * hidden, hidden);
        FloatBuffer packedBias = floats(a + "in_proj_bias", 3L * hidden);
        String[] qkv = new String[3];
        for (int i = 0; i < 3; i++) {
            String w = part(a + "in_proj_weight." + "qkv".charAt(i), packed, i * hidden * hidden, hidden * hidden,
                    new long[] {hidden, hidden});
            String bias = part(a + "in_proj_bias." + "qkv".charAt(i), packedBias, i * hidden, hidden, new long[] {hidden});
            String x = i == 0 ? probe : h;
            qkv[i] = g.op("Add", in(g.opIn(OnnxNodes.MICROSOFT, "FusedMatMul", in(x, w), integer("transB", 1)), bias));
        }
        String context = g.opIn(OnnxNodes.MICROSOFT, "MultiHeadAttention", in(qkv[0], qkv[1], qkv[2]),
                integer("num_heads", tower.heads()), real("scale", (float) (1.0 / Math.sqrt(hidden / tower.heads()))));
        String x = linear(a + "out_proj", context, hidden, hidden);
        String up = linear(prefix + "mlp.fc1", layerNorm(prefix + "layernorm", x, hidden, tower.eps()),
                tower.intermediate(), hidden);
        return g.op("Add", in(x, linear(prefix + "mlp.fc2", activate(tower, up), hidden, tower.intermediate())));
    }

    /** {@code length} values of a packed tensor from {@code offset}, as an initializer of its own. */
    private String part(String name, FloatBuffer packed, int offset, int length, long[] dims) {
        FloatBuffer values = packed.duplicate();
        values.position(packed.position() + offset).limit(packed.position() + offset + length);
        return initializer(name, values.slice(), dims);
    }

    /** An encoder layer's self-attention through {@code out_proj}; in int8, q, k and v as one quantized product. */
    private String attention(Tower tower, String prefix, String x) throws BackendException {
        int hidden = tower.hidden();
        String[] qkv = quantized != null
                ? quantized.apply(prefix + "qkv_proj", List.of(prefix + "q_proj", prefix + "k_proj", prefix + "v_proj"),
                        x, List.of(hidden, hidden, hidden), hidden, true)
                : new String[] {linear(prefix + "q_proj", x, hidden, hidden), linear(prefix + "k_proj", x, hidden, hidden),
                    linear(prefix + "v_proj", x, hidden, hidden)};
        String context = g.opIn(OnnxNodes.MICROSOFT, "MultiHeadAttention", in(qkv),
                integer("num_heads", tower.heads()), real("scale", (float) (1.0 / Math.sqrt(hidden / tower.heads()))),
                integer("unidirectional", tower.causal() ? 1 : 0));
        return encoderLinear(prefix + "out_proj", context, hidden, hidden);
    }

    /** A linear layer of an encoder layer: quantized in an int8 tower, else {@link #linear}. */
    private String encoderLinear(String name, String x, int outputs, int inputs) throws BackendException {
        return quantized != null ? quantized.apply(name, List.of(name), x, List.of(outputs), inputs, true)[0]
                : linear(name, x, outputs, inputs);
    }

    private String linear(String name, String x, int outputs, int inputs) throws BackendException {
        String product = g.opIn(OnnxNodes.MICROSOFT, "FusedMatMul", in(x, weight(name + ".weight", outputs, inputs)),
                integer("transB", 1));
        return g.op("Add", in(product, weight(name + ".bias", outputs)));
    }

    private String layerNorm(String name, String x, int hidden, double eps) throws BackendException {
        return g.op("LayerNormalization", in(x, weight(name + ".weight", hidden), weight(name + ".bias", hidden)),
                integer("axis", -1), real("epsilon", (float) eps));
    }

    private String weight(String name, long... shape) throws BackendException {
        return weightAs(name, shape, shape);
    }

    /** A tensor of the file, checked to have {@code shape}, as an initializer of the same values in {@code dims}. */
    private String weightAs(String name, long[] shape, long[] dims) throws BackendException {
        return initializer(name, floats(name, shape), dims);
    }

    private String initializer(String name, FloatBuffer values, long[] dims) {
        VitGraph.Weight weight = VitGraph.Weight.floats(values, dims);
        g.placeholder(name, weight);
        supplied.put(name, weight);
        return name;
    }

    private FloatBuffer floats(String name, long... shape) throws BackendException {
        if (!weights.contains(name)) {
            throw new BackendException(weights.file() + " has no tensor '" + name + "': vitserve builds the networks of a"
                    + " Hugging Face CLIPModel, and this checkpoint is not one or is incomplete");
        }
        long[] found = weights.shape(name);
        if (!Arrays.equals(found, shape)) {
            throw new BackendException("tensor '" + name + "' in " + weights.file() + " has shape "
                    + Arrays.toString(found) + ", but config.json needs " + Arrays.toString(shape));
        }
        try {
            return weights.floats(name);
        } catch (IllegalArgumentException e) {
            throw new BackendException("cannot read tensor '" + name + "' of " + weights.file() + ": " + e.getMessage(), e);
        }
    }
}
