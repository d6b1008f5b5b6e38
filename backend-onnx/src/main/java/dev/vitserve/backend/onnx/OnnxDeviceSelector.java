package dev.vitserve.backend.onnx;

import dev.vitserve.api.BackendException;
import dev.vitserve.api.DeviceRequest;
import java.util.Optional;

/**
 * Turns {@code --device auto | cpu | gpu | gpu:N} into the device ONNX Runtime will use, from what a
 * {@link CudaProbe} reports. A GPU that was asked for and cannot be used is an error, never a silent CPU.
 */
final class OnnxDeviceSelector {

    /** How to get CUDA for ONNX Runtime, for messages. */
    static final String HOW_TO_GET_CUDA = "build vitserve with 'mvn -Pgpu', which swaps in the package"
            + " com.microsoft.onnxruntime:onnxruntime_gpu, and install CUDA 12.x and cuDNN 9.x on the machine";

    /** What ONNX Runtime can do with CUDA here; the real one is {@link OrtCudaProbe}. */
    interface CudaProbe {

        /** Whether the ONNX Runtime package on the classpath has the CUDA execution provider. */
        boolean cudaProviderAvailable();

        /** Why CUDA device {@code index} cannot run a session, or empty when it can. */
        Optional<String> cudaDeviceProblem(int index);
    }

    /**
     * The device picked.
     *
     * @param gpuIndex the CUDA device index, or -1 for the CPU
     * @param reason why this device, for the log
     */
    record Choice(int gpuIndex, String reason) {

        static Choice cpu(String reason) {
            return new Choice(-1, reason);
        }

        boolean isGpu() {
            return gpuIndex >= 0;
        }
    }

    private OnnxDeviceSelector() {
    }

    /**
     * Picks the device for a request.
     *
     * @throws BackendException when a GPU was asked for and cannot be used, naming what is missing
     */
    static Choice select(DeviceRequest request, CudaProbe probe) throws BackendException {
        switch (request.kind()) {
            case CPU:
                return Choice.cpu("--device cpu");
            case GPU:
                return selectGpu(request, probe);
            case AUTO:
            default:
                return selectAuto(probe);
        }
    }

    private static Choice selectGpu(DeviceRequest request, CudaProbe probe) throws BackendException {
        int index = request.gpuIndexOrFirst();
        if (!probe.cudaProviderAvailable()) {
            throw new BackendException("--device " + request + " needs ONNX Runtime's CUDA execution provider, but this"
                    + " vitserve has the CPU-only ONNX Runtime package (com.microsoft.onnxruntime:onnxruntime): "
                    + HOW_TO_GET_CUDA + ", or run with --device cpu");
        }
        Optional<String> problem = probe.cudaDeviceProblem(index);
        if (problem.isPresent()) {
            throw new BackendException("--device " + request + ": ONNX Runtime cannot use CUDA device " + index + ": "
                    + problem.get() + " (check the NVIDIA driver, the CUDA 12.x and cuDNN 9.x libraries, the device index"
                    + " and CUDA_VISIBLE_DEVICES), or run with --device cpu");
        }
        return new Choice(index, "--device " + request);
    }

    private static Choice selectAuto(CudaProbe probe) {
        if (!probe.cudaProviderAvailable()) {
            return Choice.cpu("auto: no GPU support in this build, it has the CPU-only ONNX Runtime package"
                    + "; to use a GPU, " + HOW_TO_GET_CUDA);
        }
        Optional<String> problem = probe.cudaDeviceProblem(0);
        if (problem.isPresent()) {
            return Choice.cpu("auto: ONNX Runtime has the CUDA provider but CUDA device 0 cannot be used: " + problem.get());
        }
        return new Choice(0, "auto: ONNX Runtime has the CUDA provider and CUDA device 0 works");
    }
}
