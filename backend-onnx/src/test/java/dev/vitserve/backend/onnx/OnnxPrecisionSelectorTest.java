package dev.vitserve.backend.onnx;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.api.AutoPrecision;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.BackendOptions;
import dev.vitserve.api.DeviceRequest;
import dev.vitserve.api.Precision;
import dev.vitserve.testkit.TinyVit;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class OnnxPrecisionSelectorTest {

    /** This machine's package: no CUDA provider. */
    private static final OnnxDeviceSelector.CudaProbe NO_CUDA = new OnnxDeviceSelector.CudaProbe() {
        @Override
        public boolean cudaProviderAvailable() {
            return false;
        }

        @Override
        public Optional<String> cudaDeviceProblem(int index) {
            return Optional.of("no CUDA provider");
        }
    };

    @Test
    void bf16IsRefusedNamingTheDjlBackend() {
        BackendException e = assertThrows(BackendException.class, () -> new OnnxBackendProvider().checkPrecision(
                Precision.BF16));
        assertTrue(e.getMessage().contains("no bfloat16 MatMul or Gemm kernel"), e.getMessage());
        assertTrue(e.getMessage().contains("--backend djl runs bf16"), e.getMessage());
        assertDoesNotThrow(() -> new OnnxBackendProvider().checkPrecision(Precision.AUTO));
    }

    @Test
    void fp16IsRefusedOnTheCpuAndNotYetBuiltOnTheGpu() {
        BackendException cpu = assertThrows(BackendException.class, () -> OnnxPrecisionSelector.check(Precision.FP16,
                false));
        assertTrue(cpu.getMessage().contains("runs on a GPU only"), cpu.getMessage());
        BackendException gpu = assertThrows(BackendException.class, () -> OnnxPrecisionSelector.check(Precision.FP16,
                true));
        assertTrue(gpu.getMessage().contains("--backend djl --precision fp16"), gpu.getMessage());
        assertDoesNotThrow(() -> OnnxPrecisionSelector.check(Precision.INT8, false));
    }

    @Test
    void fp16WithoutCudaIsRefusedAtOpen() {
        BackendException e = assertThrows(BackendException.class, () -> OnnxBackend.open(TinyVit.model(),
                new BackendOptions(DeviceRequest.AUTO, 1, 4, Precision.FP16), NO_CUDA));
        assertTrue(e.getMessage().contains("--precision fp16 runs on a GPU only"), e.getMessage());
    }

    @Test
    void autoTriesInt8OnTheCpuOnly() {
        assertEquals(List.of(AutoPrecision.Candidate.of(Precision.INT8), AutoPrecision.Candidate.of(Precision.FP32)),
                OnnxPrecisionSelector.autoCandidates(false));
        List<AutoPrecision.Candidate> gpu = OnnxPrecisionSelector.autoCandidates(true);
        assertEquals(Precision.INT8, gpu.get(0).precision());
        assertTrue(gpu.get(0).unavailable().contains("CPU only"), gpu.get(0).unavailable());
    }

    @Test
    void autoOpensInt8WhenItsSelfCheckPassesElseFp32SayingWhy() throws BackendException {
        try (OnnxBackend backend = OnnxBackend.open(TinyVit.model(), new BackendOptions(DeviceRequest.AUTO, 1, 4,
                Precision.AUTO), NO_CUDA)) {
            String why = backend.build().chosenBecause();
            if (backend.build().precision() == Precision.INT8) {
                assertEquals("auto: int8, the fastest precision here", why);
                assertTrue(backend.build().operators().contains("checked at load against float32"),
                        backend.build().operators());
            } else {
                assertEquals(Precision.FP32, backend.build().precision());
                assertTrue(why.startsWith("auto: fp32, the fastest that runs here (passed over int8: "), why);
            }
        }
    }
}
