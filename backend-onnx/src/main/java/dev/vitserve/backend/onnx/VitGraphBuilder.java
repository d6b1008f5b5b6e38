package dev.vitserve.backend.onnx;

import static dev.vitserve.backend.onnx.OnnxNodes.in;
import static dev.vitserve.backend.onnx.OnnxNodes.integer;

import dev.vitserve.api.BackendException;
import dev.vitserve.api.ModelWeights;
import dev.vitserve.api.VitConfig;
import dev.vitserve.api.arch.Deit;

/**
 * The ONNX network of a Hugging Face {@code ViTForImageClassification} (modeling_vit.py), or of a DeiT
 * (modeling_deit.py), which is the same encoder with a distillation token after the class token:
 * {@code DeiTForImageClassification} classifies the class token, {@code DeiTForImageClassificationWithTeacher}
 * answers the mean of its class head and its distillation head.
 */
final class VitGraphBuilder extends EncoderGraphBuilder {

    /** {@code vit.} or {@code deit.}. */
    private final String prefix;
    /** The DeiT settings, or null for ViT. */
    private final Deit deit;

    VitGraphBuilder(VitConfig config, ModelWeights weights, Int8WeightRange int8) {
        super(config, weights, int8);
        this.deit = config.architecture() instanceof Deit d ? d : null;
        this.prefix = deit != null ? "deit." : "vit.";
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
        // the final LayerNorm works token by token, so only the tokens the heads read need it
        String cls = layerNorm(prefix + "layernorm", token(h, 0));
        if (deit == null) {
            outputs(cls, classifier("classifier", cls, hidden));
        } else if (!deit.withTeacher()) {
            outputs(cls, classifier("classifier", cls, hidden));
        } else {
            String distillation = layerNorm(prefix + "layernorm", token(h, 1));
            String mean = g.op("Mul", in(g.op("Add", in(classifier("cls_classifier", cls, hidden),
                    classifier("distillation_classifier", distillation, hidden))), g.floats(0.5f)));
            // the embedding is what the two heads read, side by side
            outputs(g.op("Concat", in(cls, distillation), integer("axis", 1)), mean);
        }
    }

    /** Patches through the Conv projection, the class (and distillation) token in front, plus the position embeddings. */
    private String embeddings() throws BackendException {
        int hidden = config.hiddenSize();
        String embeddings = prefix + "embeddings.";
        String patches = patchTokens(embeddings + "patch_embeddings.projection");
        int front = deit != null ? 2 : 1;
        String cls = perImage(weight(embeddings + "cls_token", 1, 1, hidden), 1);
        String tokens = deit != null
                ? g.op("Concat", in(cls, perImage(weight(embeddings + "distillation_token", 1, 1, hidden), 1), patches),
                        integer("axis", 1))
                : g.op("Concat", in(cls, patches), integer("axis", 1));
        return g.op("Add", in(tokens, weight(embeddings + "position_embeddings", 1, config.numPatches() + front, hidden)));
    }

    /** One pre-LN encoder layer: attention and MLP, each added to the residual stream. */
    private String layer(String layer, String h) throws BackendException {
        String attended = g.op("Add", in(h, attention(layer + "attention.attention.", layer + "attention.output.dense",
                layerNorm(layer + "layernorm_before", h))));
        String up = encoderLinear(layer + "intermediate.dense", layerNorm(layer + "layernorm_after", attended),
                config.intermediateSize(), config.hiddenSize(), true);
        return g.op("Add", in(attended, encoderLinear(layer + "output.dense", gelu(up), config.hiddenSize(),
                config.intermediateSize(), true)));
    }
}
