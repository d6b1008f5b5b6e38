package dev.vitserve.core.protocol.oip;

import com.google.protobuf.ByteString;
import dev.vitserve.core.http.ApiException;
import dev.vitserve.core.protocol.ZeroShotLabels;
import dev.vitserve.core.protocol.oip.InferenceRequest.Input;
import dev.vitserve.core.protocol.oip.InferenceRequest.RequestedOutput;
import dev.vitserve.core.protocol.oip.InferenceResponse.Output;
import dev.vitserve.core.protocol.oip.grpc.InferParameter;
import dev.vitserve.core.protocol.oip.grpc.InferTensorContents;
import dev.vitserve.core.protocol.oip.grpc.ModelInferRequest;
import dev.vitserve.core.protocol.oip.grpc.ModelInferResponse;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a gRPC {@code ModelInferRequest} (typed contents or {@code raw_input_contents}) into an
 * {@link InferenceRequest}, and writes the answer with {@code raw_output_contents}, as Triton does.
 */
final class GrpcInferenceCodec {

    private GrpcInferenceCodec() {
    }

    static InferenceRequest read(ModelInferRequest request) {
        List<ByteString> raw = request.getRawInputContentsList();
        if (!raw.isEmpty() && raw.size() != request.getInputsCount()) {
            throw ApiException.badRequest("invalid_tensor", "raw_input_contents has " + raw.size()
                    + " entries for " + request.getInputsCount() + " inputs: give one per input, in order");
        }
        List<Input> inputs = new ArrayList<>();
        for (int i = 0; i < request.getInputsCount(); i++) {
            ModelInferRequest.InferInputTensor input = request.getInputs(i);
            long[] shape = input.getShapeList().stream().mapToLong(Long::longValue).toArray();
            if (!raw.isEmpty()) {
                if (input.hasContents()) {
                    throw ApiException.badRequest("invalid_tensor", "input '" + input.getName()
                            + "' has contents while raw_input_contents is used: send one or the other");
                }
                inputs.add(raw(input.getName(), input.getDatatype(), shape, raw.get(i)));
            } else {
                inputs.add(typed(input.getName(), input.getDatatype(), shape, input.getContents()));
            }
        }
        List<RequestedOutput> outputs = new ArrayList<>();
        for (ModelInferRequest.InferRequestedOutputTensor output : request.getOutputsList()) {
            outputs.add(new RequestedOutput(output.getName(), classification(output), true));
        }
        InferParameter template = request.getParametersMap().get(ZeroShotLabels.TEMPLATE);
        if (template != null && template.getParameterChoiceCase() != InferParameter.ParameterChoiceCase.STRING_PARAM) {
            throw ApiException.badRequest("invalid_template", "parameter " + ZeroShotLabels.TEMPLATE
                    + " must be a string_param");
        }
        return new InferenceRequest(request.getId(), inputs, outputs, true,
                template == null ? null : template.getStringParam());
    }

    private static Input raw(String name, String datatype, long[] shape, ByteString data) {
        return switch (datatype) {
            case "FP32" -> new Input(name, datatype, shape, TensorBytes.floats(data.asReadOnlyByteBuffer(), name), null);
            case "BYTES" -> new Input(name, datatype, shape, null, TensorBytes.elements(data.asReadOnlyByteBuffer(), name));
            default -> new Input(name, datatype, shape, null, null);
        };
    }

    private static Input typed(String name, String datatype, long[] shape, InferTensorContents contents) {
        return switch (datatype) {
            case "FP32" -> {
                float[] values = new float[contents.getFp32ContentsCount()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = contents.getFp32Contents(i);
                }
                yield new Input(name, datatype, shape, values, null);
            }
            case "BYTES" -> new Input(name, datatype, shape, null,
                    contents.getBytesContentsList().stream().map(ByteString::toByteArray).toList());
            default -> new Input(name, datatype, shape, null, null);
        };
    }

    /** The classification extension's K: an int64_param of at least 1, as Triton requires; 0 when absent. */
    private static int classification(ModelInferRequest.InferRequestedOutputTensor output) {
        InferParameter parameter = output.getParametersMap().get("classification");
        if (parameter == null) {
            return 0;
        }
        if (parameter.getParameterChoiceCase() != InferParameter.ParameterChoiceCase.INT64_PARAM
                || parameter.getInt64Param() < 1) {
            throw ApiException.badRequest("invalid_parameter", "output '" + output.getName()
                    + "': classification must be an int64_param of at least 1");
        }
        return (int) Math.min(parameter.getInt64Param(), Integer.MAX_VALUE);
    }

    static ModelInferResponse write(InferenceResponse response) {
        ModelInferResponse.Builder answer = ModelInferResponse.newBuilder().setModelName(response.modelName())
                .setModelVersion(response.modelVersion()).setId(response.id());
        for (Output output : response.outputs()) {
            ModelInferResponse.InferOutputTensor.Builder tensor = ModelInferResponse.InferOutputTensor.newBuilder()
                    .setName(output.name()).setDatatype(output.datatype());
            for (long dimension : output.shape()) {
                tensor.addShape(dimension);
            }
            answer.addOutputs(tensor);
            answer.addRawOutputContents(ByteString.copyFrom(output.floats() != null
                    ? TensorBytes.of(output.floats()) : TensorBytes.of(output.elements())));
        }
        return answer.build();
    }
}
