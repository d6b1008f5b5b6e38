package dev.vitserve.core.protocol.oip;

import dev.vitserve.core.http.ApiException;
import dev.vitserve.core.http.JsonShape;
import dev.vitserve.core.protocol.ZeroShotLabels;
import dev.vitserve.core.protocol.oip.InferenceRequest.Input;
import dev.vitserve.core.protocol.oip.InferenceRequest.RequestedOutput;
import dev.vitserve.core.protocol.oip.InferenceResponse.Output;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Reads and writes the REST form of Open Inference Protocol inference: a JSON body, or a JSON
 * header of {@code Inference-Header-Content-Length} bytes followed by the tensors' binary data
 * (the binary tensor data extension), or with that header 0, one raw encoded image. BYTES in JSON
 * are base64 strings, since image bytes are not text, except a zero-shot model's {@code text}, whose elements are the
 * strings themselves.
 */
final class RestInferenceCodec {

    /** The request header that splits a body into its JSON and binary parts. */
    static final String HEADER_LENGTH = "Inference-Header-Content-Length";

    private RestInferenceCodec() {
    }

    /** A request body read, with whether every output goes binary (a raw request). */
    static InferenceRequest read(Buffer body, String headerLength) {
        Buffer all = body == null ? Buffer.buffer() : body;
        if (headerLength == null) {
            return json(all, Buffer.buffer(), false);
        }
        long length;
        try {
            length = Long.parseLong(headerLength.trim());
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("invalid_header", HEADER_LENGTH + " must be a whole number, got '"
                    + headerLength + "'");
        }
        if (length < 0 || length > all.length()) {
            throw ApiException.badRequest("invalid_header", HEADER_LENGTH + " is " + length
                    + " but the body has " + all.length() + " bytes");
        }
        if (length == 0) {
            if (all.length() == 0) {
                throw ApiException.badRequest("empty_body", "a raw request (" + HEADER_LENGTH
                        + ": 0) carries the image as its body, and this body is empty");
            }
            return new InferenceRequest("", List.of(new Input(ModelMetadata.IMAGE, "BYTES", new long[] {1}, null,
                    List.of(all.getBytes()))), List.of(), true);
        }
        return json(all.slice(0, (int) length), all.slice((int) length, all.length()), true);
    }

    private static InferenceRequest json(Buffer header, Buffer binary, boolean binaryAllowed) {
        JsonObject request;
        JsonShape.REQUESTS.check(header.getBytes());
        try {
            request = new JsonObject(header);
        } catch (DecodeException | ClassCastException e) {
            throw ApiException.badRequest("invalid_json", "the inference request is not a JSON object: infer takes "
                    + "{\"inputs\": [...]} (an image file as it is goes in an \"image\" BYTES input, base64, or as the "
                    + "whole body to POST /models/{name} or /v1/models/{name}/classify)");
        }
        String id = request.getValue("id") == null ? "" : request.getValue("id").toString();
        JsonObject parameters = object(request, "parameters", "the request");
        boolean binaryDefault = Boolean.TRUE.equals(parameters.getValue("binary_data_output"));
        Object inputsValue = request.getValue("inputs");
        if (!(inputsValue instanceof JsonArray inputsJson) || inputsJson.isEmpty()) {
            throw ApiException.badRequest("invalid_json", "\"inputs\" must be a non-empty array of tensors");
        }
        List<Input> inputs = new ArrayList<>();
        int offset = 0;
        for (Object item : inputsJson) {
            if (!(item instanceof JsonObject input)) {
                throw ApiException.badRequest("invalid_json", "each of \"inputs\" must be a JSON object");
            }
            String name = string(input, "name", "an input");
            String datatype = string(input, "datatype", "input '" + name + "'");
            long[] shape = shape(input.getValue("shape"), name);
            Object size = object(input, "parameters", "input '" + name + "'").getValue("binary_data_size");
            if (size != null) {
                if (!(size instanceof Number number) || number.longValue() < 0 || number.doubleValue() != number.longValue()) {
                    throw ApiException.badRequest("invalid_json", "input '" + name + "': binary_data_size must be a whole number");
                }
                if (!binaryAllowed || number.longValue() > binary.length() - offset) {
                    throw ApiException.badRequest("invalid_tensor", "input '" + name + "': binary_data_size "
                            + number.longValue() + " runs past the binary data (" + (binary.length() - offset)
                            + " bytes left)" + (binaryAllowed ? "" : "; send " + HEADER_LENGTH + " with binary data"));
                }
                ByteBuffer data = ByteBuffer.wrap(binary.getBytes(offset, offset + number.intValue()));
                offset += number.intValue();
                inputs.add(binaryInput(name, datatype, shape, data));
            } else {
                inputs.add(jsonInput(name, datatype, shape, input.getValue("data")));
            }
        }
        if (offset != binary.length()) {
            throw ApiException.badRequest("invalid_tensor", "the body has " + (binary.length() - offset)
                    + " bytes of binary data after the inputs' binary_data_size");
        }
        Object template = parameters.getValue(ZeroShotLabels.TEMPLATE);
        if (template != null && !(template instanceof String)) {
            throw ApiException.badRequest("invalid_template", "parameter " + ZeroShotLabels.TEMPLATE + " must be a string");
        }
        return new InferenceRequest(id, inputs, outputs(request.getValue("outputs"), binaryDefault), binaryDefault,
                (String) template);
    }

    private static Input binaryInput(String name, String datatype, long[] shape, ByteBuffer data) {
        return switch (datatype) {
            case "FP32" -> new Input(name, datatype, shape, TensorBytes.floats(data, name), null);
            case "BYTES" -> new Input(name, datatype, shape, null, TensorBytes.elements(data, name));
            default -> new Input(name, datatype, shape, null, null);
        };
    }

    private static Input jsonInput(String name, String datatype, long[] shape, Object data) {
        if (!(data instanceof JsonArray array)) {
            throw ApiException.badRequest("invalid_json", "input '" + name
                    + "' needs \"data\" (an array) or \"parameters\": {\"binary_data_size\": ...}");
        }
        List<Object> flat = new ArrayList<>();
        flatten(array, flat);
        switch (datatype) {
            case "FP32" -> {
                float[] values = new float[flat.size()];
                for (int i = 0; i < values.length; i++) {
                    if (!(flat.get(i) instanceof Number number)) {
                        throw ApiException.badRequest("invalid_tensor", "input '" + name + "': FP32 element " + i
                                + " is not a number");
                    }
                    values[i] = number.floatValue();
                }
                return new Input(name, datatype, shape, values, null);
            }
            case "BYTES" -> {
                List<byte[]> elements = new ArrayList<>(flat.size());
                for (int i = 0; i < flat.size(); i++) {
                    elements.add(name.equals(ModelMetadata.TEXT) ? text(flat.get(i), name, i) : base64(flat.get(i), name, i));
                }
                return new Input(name, datatype, shape, null, elements);
            }
            default -> {
                return new Input(name, datatype, shape, null, null);
            }
        }
    }

    /** A {@code text} element in JSON is the string itself, as the protocol's JSON form carries BYTES. */
    private static byte[] text(Object element, String name, int index) {
        if (!(element instanceof String text)) {
            throw ApiException.badRequest("invalid_tensor", "input '" + name + "': BYTES element " + index
                    + " must be a string");
        }
        return text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static byte[] base64(Object element, String name, int index) {
        if (!(element instanceof String text)) {
            throw ApiException.badRequest("invalid_tensor", "input '" + name + "': BYTES element " + index
                    + " must be a string (the image in base64)");
        }
        try {
            return Base64.getMimeDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("invalid_base64", "input '" + name + "': BYTES element " + index
                    + " is not base64: " + e.getMessage());
        }
    }

    private static void flatten(JsonArray array, List<Object> into) {
        for (Object item : array) {
            if (item instanceof JsonArray nested) {
                flatten(nested, into);
            } else {
                into.add(item);
            }
        }
    }

    private static long[] shape(Object value, String name) {
        if (!(value instanceof JsonArray array)) {
            throw ApiException.badRequest("invalid_json", "input '" + name + "': \"shape\" must be an array of whole numbers");
        }
        long[] shape = new long[array.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!(array.getValue(i) instanceof Number number) || number.doubleValue() != number.longValue()) {
                throw ApiException.badRequest("invalid_json", "input '" + name + "': \"shape\" must be an array of whole numbers");
            }
            shape[i] = number.longValue();
        }
        return shape;
    }

    private static List<RequestedOutput> outputs(Object value, boolean binaryDefault) {
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof JsonArray array)) {
            throw ApiException.badRequest("invalid_json", "\"outputs\" must be an array");
        }
        List<RequestedOutput> outputs = new ArrayList<>();
        for (Object item : array) {
            if (!(item instanceof JsonObject output)) {
                throw ApiException.badRequest("invalid_json", "each of \"outputs\" must be a JSON object");
            }
            String name = string(output, "name", "an output");
            JsonObject parameters = object(output, "parameters", "output '" + name + "'");
            Object binary = parameters.getValue("binary_data");
            Object classification = parameters.getValue("classification");
            int k = 0;
            if (classification != null) {
                if (!(classification instanceof Number number) || number.doubleValue() != number.longValue()
                        || number.longValue() < 1) {
                    throw ApiException.badRequest("invalid_parameter", "output '" + name
                            + "': classification must be a whole number of at least 1");
                }
                k = (int) Math.min(number.longValue(), Integer.MAX_VALUE);
            }
            outputs.add(new RequestedOutput(name, k, binary == null ? binaryDefault : Boolean.TRUE.equals(binary)));
        }
        return outputs;
    }

    private static String string(JsonObject object, String key, String what) {
        if (!(object.getValue(key) instanceof String text) || text.isEmpty()) {
            throw ApiException.badRequest("invalid_json", what + " needs a \"" + key + "\" string");
        }
        return text;
    }

    private static JsonObject object(JsonObject object, String key, String what) {
        Object value = object.getValue(key);
        if (value == null) {
            return new JsonObject();
        }
        if (!(value instanceof JsonObject parameters)) {
            throw ApiException.badRequest("invalid_json", what + ": \"" + key + "\" must be a JSON object");
        }
        return parameters;
    }

    /** The response and its Content-Type and header length: JSON alone, or JSON then the binary outputs. */
    record Encoded(Buffer body, String contentType, Integer headerLength) {
    }

    static Encoded write(InferenceResponse response) {
        JsonArray outputs = new JsonArray();
        Buffer binary = Buffer.buffer();
        for (Output output : response.outputs()) {
            JsonArray shape = new JsonArray();
            for (long dimension : output.shape()) {
                shape.add(dimension);
            }
            JsonObject json = new JsonObject().put("name", output.name()).put("datatype", output.datatype()).put("shape", shape);
            if (output.binary()) {
                byte[] bytes = output.floats() != null ? TensorBytes.of(output.floats()) : TensorBytes.of(output.elements());
                binary.appendBytes(bytes);
                json.put("parameters", new JsonObject().put("binary_data_size", bytes.length));
            } else {
                JsonArray data = new JsonArray();
                if (output.floats() != null) {
                    for (float value : output.floats()) {
                        data.add(value);
                    }
                } else {
                    for (byte[] element : output.elements()) {
                        data.add(new String(element, StandardCharsets.UTF_8));
                    }
                }
                json.put("data", data);
            }
            outputs.add(json);
        }
        JsonObject header = new JsonObject().put("model_name", response.modelName())
                .put("model_version", response.modelVersion());
        if (!response.id().isEmpty()) {
            header.put("id", response.id());
        }
        Buffer json = header.put("outputs", outputs).toBuffer();
        if (binary.length() == 0) {
            return new Encoded(json, "application/json", null);
        }
        return new Encoded(Buffer.buffer(json.length() + binary.length()).appendBuffer(json).appendBuffer(binary),
                "application/octet-stream", json.length());
    }
}
