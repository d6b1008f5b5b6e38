package dev.vitserve.backend.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.vitserve.api.Backend;
import dev.vitserve.api.BackendException;
import dev.vitserve.api.Logits;
import dev.vitserve.api.PixelBatch;
import dev.vitserve.backend.onnx.OnnxBackendProvider;
import org.junit.jupiter.api.Test;

/** ONNX Runtime on onnx/model.onnx and PyTorch on model.pt give the same logits for the same pixels. */
class BackendsAgreeTest {

    @Test
    void onnxAndDjlAgree() throws BackendException {
        PixelBatch pixels = TinyVit.pixels(0, 3);
        try (Backend onnx = new OnnxBackendProvider().open(TinyVit.model(), DjlBackendTest.CPU);
             Backend djl = new DjlBackendProvider().open(TinyVit.model(), DjlBackendTest.CPU)) {
            Logits fromOnnx = onnx.infer(pixels);
            Logits fromDjl = djl.infer(pixels);
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(fromOnnx.row(i), fromDjl.row(i), 1e-4f, "image " + i);
            }
        }
    }
}
