package dev.vitserve.backend.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import ai.djl.engine.Engine;
import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.DeviceRequest;
import dev.vitserve.testkit.TinyVit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The real engine on this machine: the CPU-only libtorch of pytorch-native-cpu, no GPU. */
class DjlRealDeviceTest {

    private static boolean cudaLibtorch;

    @BeforeAll
    static void start() throws BackendException {
        Engine engine = PyTorchRuntime.start(DjlBackendTest.CPU.threads());
        cudaLibtorch = PyTorchRuntime.hasCuda(engine);
    }

    @Test
    void gpuRequestsFailNamingTheCpuOnlyLibtorch() {
        assumeFalse(cudaLibtorch, "a CUDA libtorch is on the classpath");
        for (String device : new String[] {"gpu", "gpu:1"}) {
            BackendOptions options = new BackendOptions(DeviceRequest.parse(device), DjlBackendTest.CPU.threads(), 1);
            BackendException e = assertThrows(BackendException.class,
                    () -> new DjlBackendProvider().open(TinyVit.model(), options));
            assertTrue(e.getMessage().startsWith("--device " + device + " needs a CUDA build of libtorch, but DJL loaded"
                    + " the CPU-only libtorch (ai.djl.pytorch:pytorch-native-cpu)"), e.getMessage());
        }
    }

    @Test
    void autoPicksTheCpu() throws BackendException {
        assumeFalse(cudaLibtorch, "a CUDA libtorch is on the classpath");
        BackendOptions options = new BackendOptions(DeviceRequest.AUTO, DjlBackendTest.CPU.threads(), 4);
        try (Backend backend = new DjlBackendProvider().open(TinyVit.model(), options)) {
            assertEquals("cpu", backend.device().id());
        }
    }
}
