package dev.vitserve.backend.onnx;

import static dev.vitserve.backend.onnx.OnnxNodes.in;
import static dev.vitserve.backend.onnx.OnnxNodes.integer;
import static dev.vitserve.backend.onnx.OnnxNodes.ints;

import dev.vitserve.api.BackendException;
import dev.vitserve.api.ModelWeights;
import dev.vitserve.api.VitConfig;
import dev.vitserve.api.arch.Dinov2;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * The ONNX network of a Hugging Face {@code Dinov2ForImageClassification} (modeling_dinov2.py) or
 * {@code Dinov2WithRegistersForImageClassification} (modeling_dinov2_with_registers.py): class token, register
 * tokens, patches; position embeddings interpolated to the input size once at build time ({@link Dinov2}); pre-LN
 * layers with LayerScale on the attention and the feed-forward (MLP with GELU, or SwiGLU); the final LayerNorm on
 * every token, and the classifier on the class token beside the mean of the patch tokens.
 */
final class Dinov2GraphBuilder extends EncoderGraphBuilder {

    private final Dinov2 dinov2;
    private final String prefix;

    Dinov2GraphBuilder(VitConfig config, ModelWeights weights, Int8WeightRange int8) {
        super(config, weights, int8);
        this.dinov2 = (Dinov2) config.architecture();
        this.prefix = dinov2.prefix();
    }

    @Override
    protected String basePrefix() {
        return prefix;
    }

    @Override
    protected void network() throws BackendException {
        int hidden = config.hiddenSize();
        pixelInput();
        String h = embeddings();
        for (int i = 0; i < config.numLayers(); i++) {
            h = layer(prefix + "encoder.layer." + i + ".", h);
        }
        String normed = layerNorm(prefix + "layernorm", h);
        String cls = token(normed, 0);
        String patches = g.op("ReduceMean", in(tokens(normed, 1 + dinov2.registers(), Integer.MAX_VALUE)),
                ints("axes", 1), integer("keepdims", 0));
        String embedding = g.op("Concat", in(cls, patches), integer("axis", 1));
        outputs(embedding, classifier("classifier", embedding, 2 * hidden));
    }

    private String embeddings() throws BackendException {
        int hidden = config.hiddenSize();
        int patch = config.patchSize();
        String embeddings = prefix + "embeddings.";
        String patches = patchTokens(embeddings + "patch_embeddings.projection");
        String cls = perImage(weight(embeddings + "cls_token", 1, 1, hidden), 1);
        String tokens = g.op("Concat", in(cls, patches), integer("axis", 1));
        String positionsName = embeddings + "position_embeddings";
        int trained = (dinov2.trainedHeight() / patch) * (dinov2.trainedWidth() / patch);
        FloatBuffer table = floats(positionsName, 1, trained + 1, hidden);
        float[] values = new float[table.remaining()];
        table.duplicate().get(values);
        float[] positions = dinov2.positionEmbeddings(values, hidden, patch, config.imageHeight(), config.imageWidth());
        String added;
        if (positions == values) {
            added = weight(positionsName, 1, trained + 1, hidden);
        } else {
            FloatBuffer interpolated = ByteBuffer.allocateDirect(positions.length * Float.BYTES)
                    .order(ByteOrder.nativeOrder()).asFloatBuffer().put(positions).flip();
            added = supply(positionsName + ".interpolated", VitGraph.Weight.floats(interpolated,
                    new long[] {1, config.numPatches() + 1, hidden}));
        }
        String placed = g.op("Add", in(tokens, added));
        if (dinov2.registers() == 0) {
            return placed;
        }
        String registers = perImage(weight(embeddings + "register_tokens", 1, dinov2.registers(), hidden),
                dinov2.registers());
        return g.op("Concat", in(tokens(placed, 0, 1), registers, tokens(placed, 1, Integer.MAX_VALUE)),
                integer("axis", 1));
    }

    /** {@code h + s1 * attention(norm1(h))}, then {@code + s2 * ffn(norm2(.))}. */
    private String layer(String layer, String h) throws BackendException {
        int hidden = config.hiddenSize();
        String attention = attention(layer + "attention.attention.", layer + "attention.output.dense",
                layerNorm(layer + "norm1", h));
        String attended = g.op("Add", in(h, g.op("Mul", in(attention, weight(layer + "layer_scale1.lambda1", hidden)))));
        String ffn = feedForward(layer + "mlp.", layerNorm(layer + "norm2", attended));
        return g.op("Add", in(attended, g.op("Mul", in(ffn, weight(layer + "layer_scale2.lambda1", hidden)))));
    }

    private String feedForward(String mlp, String x) throws BackendException {
        int hidden = config.hiddenSize();
        if (!dinov2.swiglu()) {
            String up = encoderLinear(mlp + "fc1", x, config.intermediateSize(), hidden, true);
            return encoderLinear(mlp + "fc2", gelu(up), hidden, config.intermediateSize(), true);
        }
        int width = Dinov2.swigluHidden(config.intermediateSize());
        String both = encoderLinear(mlp + "weights_in", x, 2 * width, hidden, true);
        String[] halves = g.ops("Split", 2, in(both, g.int64s(width, width)), integer("axis", -1));
        String silu = g.op("Mul", in(halves[0], g.op("Sigmoid", in(halves[0]))));
        return encoderLinear(mlp + "weights_out", g.op("Mul", in(silu, halves[1])), hidden, width, true);
    }
}
