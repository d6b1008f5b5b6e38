package dev.vitserve.backend.djl;

import ai.djl.ndarray.types.DataType;
import dev.vitserve.api.AutoPrecision;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.CpuFeatures;
import dev.vitserve.api.Precision;
import java.util.List;

/**
 * Turns {@code --precision fp32 | bf16 | fp16 | auto} into the data type the DJL network is built in, for the device
 * chosen and this CPU's features. A half precision the device cannot run fast is refused, never run slowly or
 * replaced by float32 (only {@code auto} falls back, and says why).
 */
final class DjlPrecisionSelector {

    /**
     * What was picked.
     *
     * @param precision the precision the network runs in
     * @param dataType its DJL data type
     * @param cpuFeatures the CPU flags its kernels use; empty on a GPU or in float32
     * @param reason why, for the log and, with auto, the model's description
     */
    record Choice(Precision precision, DataType dataType, String cpuFeatures, String reason) {
    }

    private DjlPrecisionSelector() {
    }

    /**
     * Picks the data type for a precision on a device.
     *
     * @param gpu whether the network runs on a CUDA GPU
     * @param cpu the CPU's features (used only when not on a GPU)
     * @param asked fp32, bf16 or fp16 ({@link #autoCandidates} stands for auto)
     * @throws BackendException for int8, bf16 on a CPU without AVX-512 BF16 or AMX-BF16 (naming what it lacks), or
     *     fp16 on a CPU
     */
    static Choice select(Precision asked, boolean gpu, CpuFeatures cpu) throws BackendException {
        switch (asked) {
            case FP32:
                return new Choice(Precision.FP32, DataType.FLOAT32, "", "--precision fp32");
            case BF16:
                if (gpu) {
                    return new Choice(Precision.BF16, DataType.BFLOAT16, "", "--precision bf16 on the GPU");
                }
                if (!cpu.bf16()) {
                    throw new BackendException("--precision bf16 is refused on this CPU: " + cpu.bf16Lack()
                            + "; use --precision fp32, or --backend onnx --precision int8");
                }
                return new Choice(Precision.BF16, DataType.BFLOAT16, String.join(" ", cpu.bf16Flags()),
                        "--precision bf16 on a CPU with " + String.join(" and ", cpu.bf16Flags()));
            case FP16:
                if (gpu) {
                    return new Choice(Precision.FP16, DataType.FLOAT16, "", "--precision fp16 on the GPU");
                }
                throw new BackendException("--precision fp16 runs on a GPU only (libtorch's CPU kernels have no fast"
                        + " float16 path); on the CPU use " + (cpu.bf16() ? "--precision bf16 (this CPU has "
                        + String.join(" and ", cpu.bf16Flags()) + ")" : "--precision fp32 (" + cpu.bf16Lack() + ")"));
            default:
                throw new BackendException("--precision " + asked.id() + " is not available with --backend djl: DJL's"
                        + " PyTorch engine gives no access to libtorch's dynamic quantization; use --backend onnx for"
                        + " int8, or --precision fp32 or bf16 here");
        }
    }

    /**
     * What {@code --precision auto} tries, fastest first: on a GPU fp16, then fp32; on a CPU bf16 when it has
     * AVX-512 BF16 or AMX-BF16 (else passed over, saying what it lacks), then fp32. int8 is the onnx backend's.
     */
    static List<AutoPrecision.Candidate> autoCandidates(boolean gpu, CpuFeatures cpu) {
        if (gpu) {
            return List.of(AutoPrecision.Candidate.of(Precision.FP16), AutoPrecision.Candidate.of(Precision.FP32));
        }
        return List.of(new AutoPrecision.Candidate(Precision.BF16, cpu.bf16Lack()),
                AutoPrecision.Candidate.of(Precision.FP32));
    }
}
