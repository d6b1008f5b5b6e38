package dev.vitserve.backend.djl;

import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.BackendProvider;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.Precision;

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
        checkPrecision(options.precision());
        if (model.clip().isPresent()) {
            if (options.precision() != Precision.FP32 && options.precision() != Precision.AUTO) {
                throw new BackendException("--precision " + options.precision().id() + " is not built for CLIP models"
                        + " yet; serve " + model.name() + " with --precision fp32");
            }
            return ClipDjlBackend.open(model, options);
        }
        return DjlBackend.open(model, options);
    }

    /** fp32, bf16 (CPUs with AVX-512 BF16 or AMX-BF16, GPUs), fp16 (GPUs) and auto; int8 runs on onnx. */
    @Override
    public void checkPrecision(Precision precision) throws BackendException {
        if (precision == Precision.INT8) {
            // DJL 0.36's PyTorch engine binds no quantized operator of libtorch (no quantize_dynamic, no quantized
            // linear), so an int8 network cannot be built here; never run fp32 in its place
            throw new BackendException("--precision int8 is not available with --backend " + ID
                    + ": DJL's PyTorch engine gives no access to libtorch's dynamic quantization; use --backend onnx"
                    + " for int8 (it quantizes the network it builds from model.safetensors), or --precision fp32"
                    + " or bf16");
        }
    }
}
