package dev.vitserve.core.protocol.oip;

import java.util.List;

/** The answer to an {@link InferenceRequest}, before REST or gRPC puts it on the wire. */
public record InferenceResponse(String modelName, String modelVersion, String id, List<Output> outputs) {

    /**
     * One output tensor.
     *
     * @param floats the values of an FP32 tensor, row-major; null for BYTES
     * @param elements the elements of a BYTES tensor (classification strings); null for FP32
     * @param binary whether REST sends it in the binary part
     */
    public record Output(String name, String datatype, long[] shape, float[] floats, List<byte[]> elements,
                         boolean binary) {
    }
}
