package dev.vitserve.backend.onnx;

import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.BackendProvider;
import dev.vitserve.api.ModelFiles;
import dev.vitserve.api.Precision;

/** Runs models with ONNX Runtime ({@code --backend onnx}), on the CPU or a CUDA GPU. */
public final class OnnxBackendProvider implements BackendProvider {

    /** The id operators choose this backend by. */
    public static final String ID = "onnx";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public Backend open(ModelFiles model, BackendOptions options) throws BackendException {
        if (model.clip().isPresent()) {
            return ClipOnnxBackend.open(model, options, new OrtCudaProbe());
        }
        return OnnxBackend.open(model, options, new OrtCudaProbe());
    }

    /** fp32, int8 (on the CPU, from model.safetensors) and auto run; bf16 is refused naming the djl backend. */
    @Override
    public void checkPrecision(Precision precision) throws BackendException {
        if (precision == Precision.BF16) {
            throw new BackendException(OnnxPrecisionSelector.BF16_REFUSAL);
        }
    }
}
