package dev.vitserve.backend.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.api.BackendException;
import dev.vitserve.api.DeviceRequest;
import org.junit.jupiter.api.Test;

class DjlDeviceSelectorTest {

    private static final boolean CPU_LIBTORCH = false;
    private static final boolean CUDA_LIBTORCH = true;

    @Test
    void cpuIsAlwaysCpu() throws BackendException {
        assertEquals(-1, DjlDeviceSelector.select(DeviceRequest.CPU, CPU_LIBTORCH, 0).gpuIndex());
        assertEquals(-1, DjlDeviceSelector.select(DeviceRequest.CPU, CUDA_LIBTORCH, 2).gpuIndex());
    }

    @Test
    void autoPicksTheFirstGpuWhenPresent() throws BackendException {
        DjlDeviceSelector.Choice choice = DjlDeviceSelector.select(DeviceRequest.AUTO, CUDA_LIBTORCH, 2);
        assertEquals(0, choice.gpuIndex());
        assertEquals("auto: libtorch has CUDA and sees 2 CUDA device(s)", choice.reason());
    }

    @Test
    void autoPicksTheCpuWithTheReasonOnACpuLibtorch() throws BackendException {
        DjlDeviceSelector.Choice choice = DjlDeviceSelector.select(DeviceRequest.AUTO, CPU_LIBTORCH, 0);
        assertEquals(-1, choice.gpuIndex());
        assertEquals("auto: DJL loaded the CPU-only libtorch (pytorch-native-cpu) and no CUDA device is visible",
                choice.reason());
    }

    @Test
    void autoOnAGpuMachineWithACpuLibtorchSaysHowToGetCuda() throws BackendException {
        DjlDeviceSelector.Choice choice = DjlDeviceSelector.select(DeviceRequest.AUTO, CPU_LIBTORCH, 1);
        assertEquals(-1, choice.gpuIndex());
        assertTrue(choice.reason().contains("although 1 CUDA device(s) are present"), choice.reason());
        assertTrue(choice.reason().contains("PYTORCH_FLAVOR=cu128"), choice.reason());
    }

    @Test
    void autoPicksTheCpuWhenNoGpuIsVisible() throws BackendException {
        DjlDeviceSelector.Choice choice = DjlDeviceSelector.select(DeviceRequest.AUTO, CUDA_LIBTORCH, 0);
        assertEquals(-1, choice.gpuIndex());
        assertEquals("auto: libtorch has CUDA but no CUDA device is visible", choice.reason());
    }

    @Test
    void gpuPicksTheDeviceAskedFor() throws BackendException {
        assertEquals(0, DjlDeviceSelector.select(DeviceRequest.parse("gpu"), CUDA_LIBTORCH, 2).gpuIndex());
        assertEquals(1, DjlDeviceSelector.select(DeviceRequest.parse("gpu:1"), CUDA_LIBTORCH, 2).gpuIndex());
    }

    @Test
    void gpuWithACpuLibtorchNamesItAndHowToGetCuda() {
        BackendException e = assertThrows(BackendException.class,
                () -> DjlDeviceSelector.select(DeviceRequest.parse("gpu"), CPU_LIBTORCH, 1));
        assertEquals("--device gpu needs a CUDA build of libtorch, but DJL loaded the CPU-only libtorch"
                + " (ai.djl.pytorch:pytorch-native-cpu): " + DjlDeviceSelector.HOW_TO_GET_CUDA + "; or run with --device cpu",
                e.getMessage());
        assertTrue(e.getMessage().contains("pytorch-native-cu128:2.7.1:linux-x86_64"));
        assertTrue(e.getMessage().contains("~/.djl.ai/pytorch"));
    }

    @Test
    void gpuWithoutACudaDeviceSaysSo() {
        BackendException e = assertThrows(BackendException.class,
                () -> DjlDeviceSelector.select(DeviceRequest.parse("gpu:0"), CUDA_LIBTORCH, 0));
        assertEquals("--device gpu:0: no CUDA device is visible to PyTorch (check the NVIDIA driver with nvidia-smi,"
                + " and CUDA_VISIBLE_DEVICES), or run with --device cpu", e.getMessage());
    }

    @Test
    void gpuIndexOutOfRangeNamesTheDevicesThereAre() {
        BackendException two = assertThrows(BackendException.class,
                () -> DjlDeviceSelector.select(DeviceRequest.parse("gpu:2"), CUDA_LIBTORCH, 2));
        assertEquals("--device gpu:2: device index out of range, PyTorch sees 2 CUDA devices (gpu:0 to gpu:1)",
                two.getMessage());
        BackendException one = assertThrows(BackendException.class,
                () -> DjlDeviceSelector.select(DeviceRequest.parse("gpu:1"), CUDA_LIBTORCH, 1));
        assertEquals("--device gpu:1: device index out of range, PyTorch sees 1 CUDA device (gpu:0)", one.getMessage());
    }
}
