package dev.vitserve.backend.onnx;

import dev.vitserve.api.AutoPrecision;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.Precision;
import java.util.List;

/**
 * Which precisions the onnx backend runs where: fp32 everywhere, int8 on the CPU; bf16 nowhere (ONNX Runtime's CPU
 * execution provider registers its MatMul and Gemm kernels for float and double only, so a bfloat16 graph would
 * not run, or run cast back to float32); fp16 is refused on the CPU and, as no float16 graph is built yet, on the
 * GPU too, naming the djl backend that runs it. {@code auto} tries int8 then fp32 on the CPU, fp32 on a GPU.
 */
final class OnnxPrecisionSelector {

    /** Why bf16 does not run here, for the refusal. */
    static final String BF16_REFUSAL = "--precision bf16 is not available with --backend onnx: ONNX Runtime's CPU"
            + " execution provider has no bfloat16 MatMul or Gemm kernel (float and double only), so a bfloat16 graph"
            + " would not run at the hardware's pace; --backend djl runs bf16 (libtorch's oneDNN kernels, on CPUs with"
            + " AVX-512 BF16 or AMX-BF16), or use --precision int8 here";

    private OnnxPrecisionSelector() {
    }

    /**
     * Refuses an explicit precision the device cannot run here.
     *
     * @param gpu whether the session would run on a CUDA GPU
     * @throws BackendException for bf16, or fp16 (CPU: GPUs only; GPU: no float16 graph built yet)
     */
    static void check(Precision precision, boolean gpu) throws BackendException {
        if (precision == Precision.BF16) {
            throw new BackendException(BF16_REFUSAL);
        }
        if (precision == Precision.FP16) {
            throw new BackendException(gpu
                    ? "--precision fp16 is not built by --backend onnx yet (it builds float32 and int8 graphs from"
                    + " model.safetensors); on the GPU use --backend djl --precision fp16, or --precision fp32"
                    : "--precision fp16 runs on a GPU only, and no usable CUDA device was found for --backend onnx ("
                    + OnnxDeviceSelector.HOW_TO_GET_CUDA + "); on the CPU use --precision int8 or fp32");
        }
    }

    /**
     * What {@code --precision auto} tries, fastest first.
     *
     * @param gpu whether the session would run on a CUDA GPU (then int8, a CPU precision, is passed over)
     */
    static List<AutoPrecision.Candidate> autoCandidates(boolean gpu) {
        if (gpu) {
            return List.of(new AutoPrecision.Candidate(Precision.INT8, "it runs on the CPU only and the model runs on"
                    + " the GPU"), AutoPrecision.Candidate.of(Precision.FP32));
        }
        return List.of(AutoPrecision.Candidate.of(Precision.INT8), AutoPrecision.Candidate.of(Precision.FP32));
    }
}
