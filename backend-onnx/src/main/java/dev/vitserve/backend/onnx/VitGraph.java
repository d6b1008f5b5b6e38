package dev.vitserve.backend.onnx;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A network built in memory: the graph, whose weight initializers are placeholders marked as external
 * data, and the weights themselves, handed to ONNX Runtime as buffers when the session is created.
 *
 * @param model the graph, without weight data (a few tens of kilobytes even for ViT-B)
 * @param weights the float32 values of every placeholder, by initializer name
 */
record VitGraph(ModelProto model, Map<String, Weight> weights) {

    /**
     * One weight tensor.
     *
     * @param values direct, native-order float32 values (often a read-only view of the memory-mapped file)
     * @param shape its dimensions, as the placeholder declares them
     */
    record Weight(FloatBuffer values, long[] shape) {
    }

    /**
     * Opens the network in ONNX Runtime. The weights go in as external initializers over the buffers
     * (no copy on the Java side); ONNX Runtime copies them into the session, so nothing here has to
     * outlive the call.
     */
    OrtSession createSession(OrtEnvironment environment, OrtSession.SessionOptions options) throws OrtException {
        Map<String, OnnxTensorLike> initializers = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Weight> weight : weights.entrySet()) {
                initializers.put(weight.getKey(), OnnxTensor.createTensor(environment,
                        weight.getValue().values().duplicate(), weight.getValue().shape()));
            }
            options.addExternalInitializers(initializers);
            return environment.createSession(model.toByteArray(), options);
        } finally {
            for (OnnxTensorLike tensor : initializers.values()) {
                tensor.close();
            }
        }
    }
}
