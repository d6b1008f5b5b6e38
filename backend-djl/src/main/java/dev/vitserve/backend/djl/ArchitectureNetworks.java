package dev.vitserve.backend.djl;

import ai.djl.Device;
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

/** Which class builds the PyTorch network of each architecture: the one place an architecture is added to djl. */
final class ArchitectureNetworks {

    @FunctionalInterface
    private interface Builder {
        TorchNetwork build(VitConfig config, ModelWeights weights, Device device) throws BackendException;
    }

    private static final Map<Class<? extends Architecture>, Builder> BUILDERS = Map.of(
            Vit.class, VitNetwork::build,
            Deit.class, VitNetwork::build,
            Dinov2.class, Dinov2Network::build,
            Beit.class, BeitNetwork::build,
            Swin.class, SwinNetwork::build);

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
}
