package dev.vitserve.backend.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.DeviceRequest;
import dev.vitserve.testkit.TinyVit;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The real probe and provider. On a machine like the CI one (CPU-only ONNX Runtime package, no GPU)
 * GPU requests must fail naming the package; with {@code -Pgpu} on a GPU machine they must work.
 */
class OnnxRealDeviceTest {

    private static final OrtCudaProbe PROBE = new OrtCudaProbe();

    @Test
    void gpuRequestsFailNamingTheCpuPackage() {
        assumeFalse(PROBE.cudaProviderAvailable(), "built with -Pgpu: see gpuRequestsUseTheGpuOrSayWhyNot");
        for (String device : new String[] {"gpu", "gpu:1"}) {
            BackendOptions options = new BackendOptions(DeviceRequest.parse(device), 1, 1);
            BackendException e = assertThrows(BackendException.class,
                    () -> new OnnxBackendProvider().open(TinyVit.model(), options));
            assertTrue(e.getMessage().startsWith("--device " + device + " needs ONNX Runtime's CUDA execution provider,"
                    + " but this vitserve has the CPU-only ONNX Runtime package"), e.getMessage());
        }
    }

    @Test
    void gpuRequestsUseTheGpuOrSayWhyNot() throws BackendException {
        BackendOptions options = new BackendOptions(DeviceRequest.parse("gpu:0"), 1, 1);
        if (PROBE.cudaProviderAvailable() && PROBE.cudaDeviceProblem(0).isEmpty()) {
            try (Backend backend = new OnnxBackendProvider().open(TinyVit.model(), options)) {
                assertEquals("gpu:0", backend.device().id());
                assertEquals(TinyVit.expectedLogits()[0][0], backend.infer(TinyVit.pixels(0, 1)).row(0)[0], 1e-3f);
            }
        } else {
            BackendException e = assertThrows(BackendException.class,
                    () -> new OnnxBackendProvider().open(TinyVit.model(), options));
            assertTrue(e.getMessage().startsWith("--device gpu:0"), e.getMessage());
        }
    }

    @Test
    void autoPicksTheCpuWhenThereIsNoUsableGpu() throws BackendException {
        assumeFalse(PROBE.cudaProviderAvailable() && PROBE.cudaDeviceProblem(0).isEmpty(), "a GPU works here");
        try (Backend backend = new OnnxBackendProvider().open(TinyVit.model(), new BackendOptions(DeviceRequest.AUTO, 1, 4))) {
            assertEquals("cpu", backend.device().id());
            assertEquals("CPU, 1 intra-op thread, ONNX Runtime CPUExecutionProvider", backend.device().detail());
        }
    }

    @Test
    void probeGraphIsAValidModel() throws Exception {
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        try (OrtSession session = environment.createSession(IdentityGraph.bytes());
             OnnxTensor x = OnnxTensor.createTensor(environment, new float[] {4.5f});
             OrtSession.Result result = session.run(Map.of("x", x))) {
            assertEquals(4.5f, ((float[]) result.get(0).getValue())[0]);
        }
    }
}
