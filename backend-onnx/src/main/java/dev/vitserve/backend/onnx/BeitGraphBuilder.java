package dev.vitserve.backend.onnx;

import static dev.vitserve.backend.onnx.OnnxNodes.in;
import static dev.vitserve.backend.onnx.OnnxNodes.integer;
import static dev.vitserve.backend.onnx.OnnxNodes.ints;
import static dev.vitserve.backend.onnx.OnnxNodes.real;

import dev.vitserve.api.BackendException;
import dev.vitserve.api.ModelWeights;
import dev.vitserve.api.VitConfig;
import dev.vitserve.api.arch.Beit;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * The ONNX network of a Hugging Face {@code BeitForImageClassification} (modeling_beit.py): class token and patches,
 * plus the absolute position embeddings when there are any; pre-LN layers whose attention has query and value biases
 * but no key bias, and adds the relative position bias (the layer's, the shared one, or both, looked up from their
 * tables once at build time) to the scores through {@code MultiHeadAttention}'s {@code attention_bias}; LayerScale
 * after the attention and the MLP; then the pooler's LayerNorm of the mean of the patch tokens (mean pooling) or the
 * class token through the final LayerNorm.
 */
final class BeitGraphBuilder extends EncoderGraphBuilder {

    private static final String PREFIX = Beit.PREFIX;

    private final Beit beit;
    private final int rows;
    private final int columns;
    /** The shared relative position bias [heads, tokens, tokens], or null. */
    private float[] sharedBias;
    /** The initializer of the shared bias when the layers have none of their own, once made. */
    private String sharedBiasInput;

    BeitGraphBuilder(VitConfig config, ModelWeights weights, Int8WeightRange int8) {
        super(config, weights, int8);
        this.beit = (Beit) config.architecture();
        this.rows = config.imageHeight() / config.patchSize();
        this.columns = config.imageWidth() / config.patchSize();
    }

    @Override
    protected String basePrefix() {
        return PREFIX;
    }

    @Override
    protected void network() throws BackendException {
        int hidden = config.hiddenSize();
        pixelInput();
        String h = embeddings();
        if (beit.sharedRelativePositionBias()) {
            sharedBias = biasFromTable(PREFIX + "encoder.relative_position_bias.relative_position_bias_table");
        }
        for (int i = 0; i < config.numLayers(); i++) {
            h = layer(PREFIX + "encoder.layer." + i + ".", h);
        }
        String pooled;
        if (beit.meanPooling()) {
            String mean = g.op("ReduceMean", in(tokens(h, 1, Integer.MAX_VALUE)), ints("axes", 1),
                    integer("keepdims", 0));
            pooled = layerNorm(PREFIX + "pooler.layernorm", mean);
        } else {
            // the final LayerNorm works token by token: only the class token needs it
            pooled = layerNorm(PREFIX + "layernorm", token(h, 0));
        }
        outputs(pooled, classifier("classifier", pooled, hidden));
    }

    private String embeddings() throws BackendException {
        int hidden = config.hiddenSize();
        String embeddings = PREFIX + "embeddings.";
        String patches = patchTokens(embeddings + "patch_embeddings.projection");
        String cls = perImage(weight(embeddings + "cls_token", 1, 1, hidden), 1);
        String tokens = g.op("Concat", in(cls, patches), integer("axis", 1));
        if (!beit.absolutePositions()) {
            return tokens;
        }
        return g.op("Add", in(tokens, weight(embeddings + "position_embeddings", 1, config.numPatches() + 1, hidden)));
    }

    /** {@code h + lambda_1 * attention(layernorm_before(h))}, then {@code + lambda_2 * mlp(layernorm_after(.))}. */
    private String layer(String layer, String h) throws BackendException {
        int hidden = config.hiddenSize();
        String attention = beitAttention(layer + "attention.attention.", layer + "attention.output.dense",
                layerNorm(layer + "layernorm_before", h));
        if (beit.layerScale()) {
            attention = g.op("Mul", in(attention, weight(layer + "lambda_1", hidden)));
        }
        String attended = g.op("Add", in(h, attention));
        String up = encoderLinear(layer + "intermediate.dense", layerNorm(layer + "layernorm_after", attended),
                config.intermediateSize(), hidden, true);
        String down = encoderLinear(layer + "output.dense", gelu(up), hidden, config.intermediateSize(), true);
        if (beit.layerScale()) {
            down = g.op("Mul", in(down, weight(layer + "lambda_2", hidden)));
        }
        return g.op("Add", in(attended, down));
    }

    /**
     * BEiT's self-attention through its output projection: query and value with their biases, key without; in an
     * int8 network one quantized product for the three, the two biases added after; the relative position biases
     * summed into one constant {@code attention_bias} of {@code MultiHeadAttention}.
     */
    private String beitAttention(String self, String output, String x) throws BackendException {
        int hidden = config.hiddenSize();
        String q;
        String k;
        String v;
        if (int8 != null) {
            String[] qkv = quantizedLinear(self + "query_key_value", List.of(self + "query", self + "key", self + "value"),
                    x, List.of(hidden, hidden, hidden), hidden, false);
            q = g.op("Add", in(qkv[0], weight(self + "query.bias", hidden)));
            k = qkv[1];
            v = g.op("Add", in(qkv[2], weight(self + "value.bias", hidden)));
        } else {
            q = linear(self + "query", x, hidden, hidden, true);
            k = linear(self + "key", x, hidden, hidden, false);
            v = linear(self + "value", x, hidden, hidden, true);
        }
        String bias = null;
        if (beit.relativePositionBias()) {
            float[] own = biasFromTable(self + "relative_position_bias.relative_position_bias_table");
            if (sharedBias != null) {
                // HF adds the layer's bias, then the shared one: summed once here
                for (int i = 0; i < own.length; i++) {
                    own[i] += sharedBias[i];
                }
            }
            bias = supplyBias(self + "relative_position_bias.attention_bias", own);
        } else if (sharedBias != null) {
            if (sharedBiasInput == null) {
                sharedBiasInput = supplyBias(PREFIX + "encoder.relative_position_bias.attention_bias", sharedBias);
            }
            bias = sharedBiasInput;
        }
        rolloutLayer(q, k, bias);
        String[] inputs = bias == null ? in(q, k, v) : in(q, k, v, "", "", bias);
        String context = g.opIn(OnnxNodes.MICROSOFT, "MultiHeadAttention", inputs,
                integer("num_heads", config.numHeads()), real("scale", (float) (1.0 / Math.sqrt(config.headSize()))));
        return encoderLinear(output, context, hidden, hidden, true);
    }

    /** A relative position bias table, checked, looked up into [heads, tokens, tokens]. */
    private float[] biasFromTable(String name) throws BackendException {
        FloatBuffer table = floats(name, Beit.relativeDistances(rows, columns), config.numHeads());
        float[] values = new float[table.remaining()];
        table.duplicate().get(values);
        return Beit.relativePositionBias(values, config.numHeads(), rows, columns);
    }

    /** A bias [heads, tokens, tokens] as an initializer [1, heads, tokens, tokens]. */
    private String supplyBias(String name, float[] bias) {
        long tokens = config.numPatches() + 1L;
        FloatBuffer buffer = ByteBuffer.allocateDirect(bias.length * Float.BYTES).order(ByteOrder.nativeOrder())
                .asFloatBuffer().put(bias).flip();
        return supply(name, VitGraph.Weight.floats(buffer, new long[] {1, config.numHeads(), tokens, tokens}));
    }
}
