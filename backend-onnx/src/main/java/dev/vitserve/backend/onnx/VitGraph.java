package dev.vitserve.backend.onnx;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A network built in memory: the graph, whose weight initializers are placeholders marked as external
 * data, and the weights themselves, handed to ONNX Runtime as buffers when the session is created.
 *
 * @param model the graph, without weight data (a few tens of kilobytes even for ViT-B)
 * @param weights the values of every placeholder, by initializer name
 * @param quantizedLinears how many linear layers run on int8 weights (0 in fp32)
 * @param quantizeNanos time spent quantizing their weights
 */
record VitGraph(ModelProto model, Map<String, Weight> weights, int quantizedLinears, long quantizeNanos) {

    /**
     * One weight tensor.
     *
     * @param values direct, native-order values (float32 ones often a read-only view of the memory-mapped file)
     * @param shape its dimensions, as the placeholder declares them
     * @param type {@link OnnxJavaType#FLOAT} for a {@link FloatBuffer}, {@link OnnxJavaType#INT8} for a {@link ByteBuffer}
     */
    record Weight(Buffer values, long[] shape, OnnxJavaType type) {

        static Weight floats(FloatBuffer values, long[] shape) {
            return new Weight(values, shape, OnnxJavaType.FLOAT);
        }

        static Weight int8s(ByteBuffer values, long[] shape) {
            return new Weight(values, shape, OnnxJavaType.INT8);
        }

        /** The size of the values in bytes. */
        long bytes() {
            return (long) values.remaining() * (type == OnnxJavaType.FLOAT ? Float.BYTES : 1);
        }

        OnnxTensor tensor(OrtEnvironment environment) throws OrtException {
            return type == OnnxJavaType.FLOAT
                    ? OnnxTensor.createTensor(environment, ((FloatBuffer) values).duplicate(), shape)
                    : OnnxTensor.createTensor(environment, ((ByteBuffer) values).duplicate(), shape, type);
        }
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
                initializers.put(weight.getKey(), weight.getValue().tensor(environment));
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
