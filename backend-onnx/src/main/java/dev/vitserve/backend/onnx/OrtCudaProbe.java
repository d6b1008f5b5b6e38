package dev.vitserve.backend.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import java.util.Optional;

/**
 * Asks the ONNX Runtime on the classpath about CUDA: whether its package has the CUDA provider, and
 * whether a device can open a session (tried on a one-node graph, so a model is not loaded twice).
 */
final class OrtCudaProbe implements OnnxDeviceSelector.CudaProbe {

    @Override
    public boolean cudaProviderAvailable() {
        return OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA);
    }

    @Override
    public Optional<String> cudaDeviceProblem(int index) {
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.addCUDA(index);
            environment.createSession(IdentityGraph.bytes(), options).close();
            return Optional.empty();
        } catch (OrtException | RuntimeException e) {
            return Optional.of(String.valueOf(e.getMessage()));
        }
    }
}
