package dev.vitserve.backend.djl;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
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
import java.util.Set;

/** Which class builds the PyTorch network of each architecture: the one place an architecture is added to djl. */
final class ArchitectureNetworks {

    @FunctionalInterface
    private interface Builder {
        TorchNetwork build(VitConfig config, ModelWeights weights, Device device) throws BackendException;
    }

    private static final Map<Class<? extends Architecture>, Builder> BUILDERS = Map.of(
            Vit.class, (config, weights, device) -> VitNetwork.build(config, weights, device, DataType.FLOAT32),
            Deit.class, (config, weights, device) -> VitNetwork.build(config, weights, device, DataType.FLOAT32),
            Dinov2.class, Dinov2Network::build,
            Beit.class, BeitNetwork::build,
            Swin.class, SwinNetwork::build);
    /** The architectures whose network is also built in half precision (bfloat16 or float16 weights). */
    private static final Set<Class<? extends Architecture>> HALF = Set.of(Vit.class, Deit.class);

    private ArchitectureNetworks() {
    }

    /**
     * Reads the weights onto a device and builds the model's network.
     *
     * @throws BackendException when a tensor is missing or has the wrong shape, or the architecture has no network here
     */
    static TorchNetwork build(VitConfig config, ModelWeights weights, Device device) throws BackendException {
        Builder builder = BUILDERS.get(config.architecture().getClass());
        if (builder == null) {
            throw new BackendException("the djl backend cannot build " + config.architecture().className()
                    + " from model.safetensors; it builds " + Architectures.describeSupported());
        }
        return builder.build(config, weights, device);
    }

    /**
     * Reads the weights onto a device as {@code dataType} and builds the network: float32 for every architecture,
     * bfloat16 or float16 for ViT and DeiT.
     *
     * @throws BackendException as {@link #build(VitConfig, ModelWeights, Device)}, or naming the architectures built
     *     in half precision
     */
    static TorchNetwork build(VitConfig config, ModelWeights weights, Device device, DataType dataType)
            throws BackendException {
        if (dataType == DataType.FLOAT32) {
            return build(config, weights, device);
        }
        if (!HALF.contains(config.architecture().getClass())) {
            throw new BackendException("the djl backend builds " + config.architecture().className() + " in float32"
                    + " only; " + dataType + " is built for ViTForImageClassification and DeiT classifiers; serve it"
                    + " with --precision fp32");
        }
        return VitNetwork.build(config, weights, device, dataType);
    }
}
