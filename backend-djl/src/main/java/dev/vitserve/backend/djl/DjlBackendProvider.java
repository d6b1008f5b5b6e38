package dev.vitserve.backend.djl;

import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.BackendProvider;
import dev.vitserve.api.ModelFiles;

/**
 * Runs ViT models with DJL on the PyTorch engine ({@code --backend djl}), offline: a TorchScript {@code model.pt}, or
 * the network built from {@code model.safetensors} when there is no TorchScript file.
 */
public final class DjlBackendProvider implements BackendProvider {

    /** The id operators choose this backend by. */
    public static final String ID = "djl";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public Backend open(ModelFiles model, BackendOptions options) throws BackendException {
        return DjlBackend.open(model, options);
    }
}
