package dev.vitserve.backend.onnx;

import dev.vitserve.api.Architecture;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.ModelWeights;
import dev.vitserve.api.VitConfig;
import dev.vitserve.api.arch.Architectures;
import dev.vitserve.api.arch.Beit;
import dev.vitserve.api.arch.Deit;
import dev.vitserve.api.arch.Dinov2;
import dev.vitserve.api.arch.Swin;
import dev.vitserve.api.arch.Vit;
import java.util.Map;

/**
 * Which builder makes the ONNX network of each architecture: the one place an architecture is added to the onnx
 * backend.
 */
final class ArchitectureGraphs {

    /** Makes an architecture's builder. */
    @FunctionalInterface
    private interface Builder {
        EncoderGraphBuilder of(VitConfig config, ModelWeights weights, Int8WeightRange int8);
    }

    private static final Map<Class<? extends Architecture>, Builder> BUILDERS = Map.of(
            Vit.class, VitGraphBuilder::new,
            Deit.class, VitGraphBuilder::new,
            Dinov2.class, Dinov2GraphBuilder::new,
            Beit.class, BeitGraphBuilder::new,
            Swin.class, SwinGraphBuilder::new);

    private ArchitectureGraphs() {
    }

    /**
     * Builds a model's network from its weights, checking every tensor's shape: in float32 when {@code int8} is null,
     * else with the encoder's linear layers (query, key, value, attention output, MLP up and down) on int8 weights,
     * symmetric per output channel, and uint8 activations quantized per tensor at run time by ONNX Runtime's
     * {@code DynamicQuantizeMatMul}; the patch embedding, the layer norms, attention's softmax and the classifier
     * heads stay float32.
     *
     * @throws BackendException when hidden_act is not gelu, a tensor is missing or has the wrong shape, or the
     *     architecture has no builder here
     */
    static VitGraph build(VitConfig config, ModelWeights weights, Int8WeightRange int8) throws BackendException {
        Builder builder = BUILDERS.get(config.architecture().getClass());
        if (builder == null) {
            throw new BackendException("the onnx backend cannot build " + config.architecture().className()
                    + " from model.safetensors; it builds " + Architectures.describeSupported());
        }
        return builder.of(config, weights, int8).graph();
    }
}
