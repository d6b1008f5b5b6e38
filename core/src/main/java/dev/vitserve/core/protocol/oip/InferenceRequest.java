package dev.vitserve.core.protocol.oip;

import dev.vitserve.core.http.ApiException;
import java.util.List;

/**
 * An Open Inference Protocol inference request, as REST and gRPC both carry it once their wire
 * format is read: the tensors' data already decoded by datatype.
 *
 * @param id the client's id, echoed back; may be empty
 * @param outputs the outputs asked for; empty means all of them
 * @param binaryByDefault whether the outputs answered when none is named go in REST's binary part
 * @param template the request's {@code hypothesis_template} parameter for a zero-shot model's {@code text}, or null
 */
public record InferenceRequest(String id, List<Input> inputs, List<RequestedOutput> outputs, boolean binaryByDefault,
                               String template) {

    /** A request without a template. */
    public InferenceRequest(String id, List<Input> inputs, List<RequestedOutput> outputs, boolean binaryByDefault) {
        this(id, inputs, outputs, binaryByDefault, null);
    }

    /**
     * One input tensor.
     *
     * @param floats the values of an FP32 tensor, row-major; null for other datatypes
     * @param elements the elements of a BYTES tensor; null for other datatypes
     */
    public record Input(String name, String datatype, long[] shape, float[] floats, List<byte[]> elements) {

        /**
         * Refuses NaN and infinite values (a JSON 1e39 is infinite as FP32): the network would answer NaN logits.
         * Checked here, where every codec builds its inputs on a worker, not on the event loop.
         */
        public Input {
            if (floats != null) {
                for (int i = 0; i < floats.length; i++) {
                    if (!Float.isFinite(floats[i])) {
                        throw ApiException.badRequest("invalid_tensor", "input '" + name + "': element " + i + " is "
                                + floats[i] + " as FP32; pixel values must be finite numbers");
                    }
                }
            }
        }
    }

    /**
     * One output asked for.
     *
     * @param classification the classification extension's top K, or 0 for the tensor itself
     * @param binary whether REST sends it in the binary part (ignored by gRPC, which is always binary)
     */
    public record RequestedOutput(String name, int classification, boolean binary) {
    }
}
