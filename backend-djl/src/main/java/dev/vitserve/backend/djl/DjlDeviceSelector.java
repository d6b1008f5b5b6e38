package dev.vitserve.backend.djl;

import dev.vitserve.api.BackendException;
import dev.vitserve.api.DeviceRequest;

/**
 * Turns {@code --device auto | cpu | gpu | gpu:N} into the device PyTorch will use, from what the started
 * engine reports. A GPU that was asked for and cannot be used is an error, never a silent CPU.
 */
final class DjlDeviceSelector {

    /** How DJL gets a CUDA libtorch, for messages. */
    static final String HOW_TO_GET_CUDA = "to get a CUDA libtorch either put"
            + " ai.djl.pytorch:pytorch-native-cu128:2.7.1:linux-x86_64 on the classpath (offline; DJL prefers it to the"
            + " CPU jar when the driver supports CUDA 12.8), or leave pytorch-native-cpu off the classpath and start once"
            + " with PYTORCH_FLAVOR=cu128, DJL_OFFLINE=false and network access (DJL downloads libtorch into"
            + " ~/.djl.ai/pytorch, or DJL_CACHE_DIR, and reuses it offline afterwards)";

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

    private DjlDeviceSelector() {
    }

    /**
     * Picks the device for a request.
     *
     * @param cudaLibtorch whether the libtorch DJL loaded was built with CUDA
     * @param gpuCount the CUDA devices the engine sees
     * @throws BackendException when a GPU was asked for and cannot be used, naming what is missing
     */
    static Choice select(DeviceRequest request, boolean cudaLibtorch, int gpuCount) throws BackendException {
        switch (request.kind()) {
            case CPU:
                return Choice.cpu("--device cpu");
            case GPU:
                return selectGpu(request, cudaLibtorch, gpuCount);
            case AUTO:
            default:
                return selectAuto(cudaLibtorch, gpuCount);
        }
    }

    private static Choice selectGpu(DeviceRequest request, boolean cudaLibtorch, int gpuCount) throws BackendException {
        int index = request.gpuIndexOrFirst();
        if (!cudaLibtorch) {
            throw new BackendException("--device " + request + " needs a CUDA build of libtorch, but DJL loaded the"
                    + " CPU-only libtorch (ai.djl.pytorch:pytorch-native-cpu): " + HOW_TO_GET_CUDA
                    + "; or run with --device cpu");
        }
        if (gpuCount == 0) {
            throw new BackendException("--device " + request + ": no CUDA device is visible to PyTorch (check the NVIDIA"
                    + " driver with nvidia-smi, and CUDA_VISIBLE_DEVICES), or run with --device cpu");
        }
        if (index >= gpuCount) {
            throw new BackendException("--device " + request + ": device index out of range, PyTorch sees " + gpuCount
                    + " CUDA device" + (gpuCount == 1 ? " (gpu:0)" : "s (gpu:0 to gpu:" + (gpuCount - 1) + ")"));
        }
        return new Choice(index, "--device " + request);
    }

    private static Choice selectAuto(boolean cudaLibtorch, int gpuCount) {
        if (!cudaLibtorch) {
            return Choice.cpu(gpuCount == 0
                    ? "auto: DJL loaded the CPU-only libtorch (pytorch-native-cpu) and no CUDA device is visible"
                    : "auto: DJL loaded the CPU-only libtorch (pytorch-native-cpu) although " + gpuCount
                            + " CUDA device(s) are present; " + HOW_TO_GET_CUDA);
        }
        if (gpuCount == 0) {
            return Choice.cpu("auto: libtorch has CUDA but no CUDA device is visible");
        }
        return new Choice(0, "auto: libtorch has CUDA and sees " + gpuCount + " CUDA device(s)");
    }
}
