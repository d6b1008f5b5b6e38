package dev.vitserve.api;

import java.util.Objects;

/**
 * The device a backend actually runs on: the CPU or one GPU.
 *
 * @param gpuIndex the CUDA device index, or -1 for the CPU
 * @param detail for people: the execution provider, the GPU's name, the thread count
 */
public record Device(int gpuIndex, String detail) {

    public Device {
        Objects.requireNonNull(detail, "detail");
        if (gpuIndex < -1) {
            throw new IllegalArgumentException("gpuIndex is -1 (CPU) or a device index");
        }
    }

    public static Device cpu(String detail) {
        return new Device(-1, detail);
    }

    public static Device gpu(int index, String detail) {
        if (index < 0) {
            throw new IllegalArgumentException("GPU index must be 0 or more, got " + index);
        }
        return new Device(index, detail);
    }

    public boolean isGpu() {
        return gpuIndex >= 0;
    }

    /** {@code cpu} or {@code gpu:N}, the form {@code --device} takes. */
    public String id() {
        return isGpu() ? "gpu:" + gpuIndex : "cpu";
    }

    @Override
    public String toString() {
        return id() + " (" + detail + ")";
    }
}
