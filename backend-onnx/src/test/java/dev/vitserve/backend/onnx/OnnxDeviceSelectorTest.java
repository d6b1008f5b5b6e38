package dev.vitserve.backend.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.api.BackendException;
import dev.vitserve.api.DeviceRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class OnnxDeviceSelectorTest {

    /** A machine as the probe would see it: which CUDA devices open a session. */
    private static final class FakeProbe implements OnnxDeviceSelector.CudaProbe {
        private final boolean provider;
        private final int devices;
        private final List<Integer> probed = new ArrayList<>();

        FakeProbe(boolean provider, int devices) {
            this.provider = provider;
            this.devices = devices;
        }

        @Override
        public boolean cudaProviderAvailable() {
            return provider;
        }

        @Override
        public Optional<String> cudaDeviceProblem(int index) {
            probed.add(index);
            return index < devices ? Optional.empty()
                    : Optional.of("CUDA failure 101: invalid device ordinal ; GPU=" + index);
        }
    }

    private static final FakeProbe CPU_PACKAGE = new FakeProbe(false, 0);
    private static final FakeProbe CPU_PACKAGE_ON_GPU_MACHINE = new FakeProbe(false, 2);
    private static final FakeProbe GPU_PACKAGE_NO_DEVICE = new FakeProbe(true, 0);
    private static final FakeProbe TWO_GPUS = new FakeProbe(true, 2);

    @Test
    void cpuIsAlwaysCpu() throws BackendException {
        for (FakeProbe probe : List.of(CPU_PACKAGE, GPU_PACKAGE_NO_DEVICE, TWO_GPUS)) {
            assertEquals(-1, OnnxDeviceSelector.select(DeviceRequest.CPU, probe).gpuIndex());
        }
    }

    @Test
    void cpuDoesNotTouchTheGpu() throws BackendException {
        FakeProbe probe = new FakeProbe(true, 2);
        OnnxDeviceSelector.select(DeviceRequest.CPU, probe);
        assertTrue(probe.probed.isEmpty());
    }

    @Test
    void autoPicksTheFirstGpuWhenItWorks() throws BackendException {
        OnnxDeviceSelector.Choice choice = OnnxDeviceSelector.select(DeviceRequest.AUTO, TWO_GPUS);
        assertEquals(0, choice.gpuIndex());
        assertEquals("auto: ONNX Runtime has the CUDA provider and CUDA device 0 works", choice.reason());
    }

    @Test
    void autoFallsToCpuWithTheReasonOnTheCpuPackage() throws BackendException {
        OnnxDeviceSelector.Choice choice = OnnxDeviceSelector.select(DeviceRequest.AUTO, CPU_PACKAGE_ON_GPU_MACHINE);
        assertEquals(-1, choice.gpuIndex());
        assertTrue(choice.reason().contains("CPU-only ONNX Runtime package"), choice.reason());
        assertTrue(choice.reason().contains("mvn -Pgpu"), choice.reason());
    }

    @Test
    void autoFallsToCpuWithTheReasonWhenNoDeviceWorks() throws BackendException {
        OnnxDeviceSelector.Choice choice = OnnxDeviceSelector.select(DeviceRequest.AUTO, GPU_PACKAGE_NO_DEVICE);
        assertEquals(-1, choice.gpuIndex());
        assertEquals("auto: ONNX Runtime has the CUDA provider but CUDA device 0 cannot be used:"
                + " CUDA failure 101: invalid device ordinal ; GPU=0", choice.reason());
    }

    @Test
    void gpuPicksTheDeviceAskedFor() throws BackendException {
        assertEquals(0, OnnxDeviceSelector.select(DeviceRequest.parse("gpu"), TWO_GPUS).gpuIndex());
        assertEquals(1, OnnxDeviceSelector.select(DeviceRequest.parse("gpu:1"), TWO_GPUS).gpuIndex());
    }

    @Test
    void gpuWithTheCpuPackageNamesThePackage() {
        BackendException e = assertThrows(BackendException.class,
                () -> OnnxDeviceSelector.select(DeviceRequest.parse("gpu"), CPU_PACKAGE_ON_GPU_MACHINE));
        assertEquals("--device gpu needs ONNX Runtime's CUDA execution provider, but this vitserve has the CPU-only"
                + " ONNX Runtime package (com.microsoft.onnxruntime:onnxruntime): build vitserve with 'mvn -Pgpu',"
                + " which swaps in the package com.microsoft.onnxruntime:onnxruntime_gpu, and install CUDA 12.x and"
                + " cuDNN 9.x on the machine, or run with --device cpu", e.getMessage());
    }

    @Test
    void gpuWithoutACudaDeviceSaysSo() {
        BackendException e = assertThrows(BackendException.class,
                () -> OnnxDeviceSelector.select(DeviceRequest.parse("gpu"), GPU_PACKAGE_NO_DEVICE));
        assertTrue(e.getMessage().startsWith("--device gpu: ONNX Runtime cannot use CUDA device 0:"
                + " CUDA failure 101: invalid device ordinal"), e.getMessage());
    }

    @Test
    void gpuIndexOutOfRangeNamesTheIndex() {
        BackendException e = assertThrows(BackendException.class,
                () -> OnnxDeviceSelector.select(DeviceRequest.parse("gpu:2"), TWO_GPUS));
        assertTrue(e.getMessage().startsWith("--device gpu:2: ONNX Runtime cannot use CUDA device 2:"
                + " CUDA failure 101: invalid device ordinal ; GPU=2"), e.getMessage());
    }
}
