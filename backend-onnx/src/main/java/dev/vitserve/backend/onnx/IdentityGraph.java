package dev.vitserve.backend.onnx;

/**
 * The smallest useful ONNX model, {@code y = Identity(x)} on a float[1] (IR version 8, opset 17):
 * enough to see whether a device can open a session.
 */
final class IdentityGraph {

    private IdentityGraph() {
    }

    /** The serialized model. */
    static byte[] bytes() {
        OnnxNodes graph = new OnnxNodes("vitserve-device-probe");
        graph.floatInput("x", 1L);
        graph.opTo("y", "Identity", OnnxNodes.in("x"));
        graph.floatOutput("y", 1L);
        return graph.model("vitserve", false).toByteArray();
    }
}
