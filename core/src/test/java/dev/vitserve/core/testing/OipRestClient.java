package dev.vitserve.core.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vitserve.core.image.DecodedImage;
import dev.vitserve.core.image.ImageDecoder;
import dev.vitserve.core.image.Preprocessor;
import dev.vitserve.core.image.PreprocessorConfig;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Speaks the Open Inference Protocol's REST form to a running server as tritonclient does:
 * JSON requests, or a JSON header and binary tensors ({@code Inference-Header-Content-Length}),
 * and reads binary or JSON outputs back.
 */
public final class OipRestClient {

    private final RunningServer server;

    public OipRestClient(RunningServer server) {
        this.server = server;
    }

    /** A JSON header followed by binary tensors, as tritonclient sends by default. */
    public HttpResponse<Buffer> postBinary(String uri, JsonObject header, byte[]... tensors) throws Exception {
        Buffer json = header.toBuffer();
        Buffer body = Buffer.buffer().appendBuffer(json);
        for (byte[] tensor : tensors) {
            body.appendBytes(tensor);
        }
        return post(uri, body, String.valueOf(json.length()));
    }

    /** A body, with {@code Inference-Header-Content-Length} when given (null for a JSON-only body). */
    public HttpResponse<Buffer> post(String uri, Buffer body, String headerLength) throws Exception {
        HttpRequest<Buffer> request = server.client.post(uri);
        if (headerLength != null) {
            request.putHeader("Inference-Header-Content-Length", headerLength);
        }
        return request.sendBuffer(body).await(60, TimeUnit.SECONDS);
    }

    /** An input whose data is in the binary part. */
    public static JsonObject binaryInput(String name, String datatype, List<Long> shape, int size) {
        return new JsonObject().put("name", name).put("datatype", datatype).put("shape", new JsonArray(shape))
                .put("parameters", new JsonObject().put("binary_data_size", size));
    }

    /** BYTES elements, each after its 4-byte little-endian length. */
    public static byte[] lengthPrefixed(List<byte[]> elements) {
        int size = elements.stream().mapToInt(e -> 4 + e.length).sum();
        ByteBuffer out = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        elements.forEach(e -> out.putInt(e.length).put(e));
        return out.array();
    }

    /** FP32 values as little-endian bytes. */
    public static byte[] littleEndian(float[] values) {
        ByteBuffer out = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        out.asFloatBuffer().put(values);
        return out.array();
    }

    /** The CHW tensors of the photos, concatenated, preprocessed as the model folder's preprocessor_config.json says. */
    public static float[] pixelValues(Path model, List<byte[]> photos) throws Exception {
        Preprocessor preprocessor = new Preprocessor(PreprocessorConfig.read(model.resolve("preprocessor_config.json")));
        float[] all = new float[preprocessor.tensorLength() * photos.size()];
        ImageDecoder decoder = new ImageDecoder(100_000_000);
        for (int i = 0; i < photos.size(); i++) {
            try (DecodedImage image = decoder.decodeForPreprocessing(photos.get(i))) {
                preprocessor.writeTensor(image, FloatBuffer.wrap(all, i * preprocessor.tensorLength(),
                        preprocessor.tensorLength()));
            }
        }
        return all;
    }

    /** One output of a response, JSON or binary, as floats (FP32) or strings (BYTES). */
    public record Output(String name, String datatype, List<Long> shape, float[] floats, List<String> strings) {
    }

    /** The outputs of a 200 response, in order. */
    public static List<Output> outputs(HttpResponse<Buffer> response) {
        assertEquals(200, response.statusCode(), response.bodyAsString());
        Buffer body = response.body();
        String length = response.getHeader("Inference-Header-Content-Length");
        int headerLength = length == null ? body.length() : Integer.parseInt(length);
        JsonObject header = new JsonObject(body.slice(0, headerLength));
        int offset = headerLength;
        List<Output> outputs = new ArrayList<>();
        for (Object item : header.getJsonArray("outputs")) {
            JsonObject output = (JsonObject) item;
            List<Long> shape = output.getJsonArray("shape").stream().map(n -> ((Number) n).longValue()).toList();
            JsonObject parameters = output.getJsonObject("parameters");
            float[] floats = null;
            List<String> strings = null;
            if (parameters != null && parameters.containsKey("binary_data_size")) {
                int size = parameters.getInteger("binary_data_size");
                ByteBuffer data = ByteBuffer.wrap(body.getBytes(offset, offset + size)).order(ByteOrder.LITTLE_ENDIAN);
                offset += size;
                if (output.getString("datatype").equals("FP32")) {
                    floats = new float[size / 4];
                    data.asFloatBuffer().get(floats);
                } else {
                    strings = new ArrayList<>();
                    while (data.hasRemaining()) {
                        byte[] element = new byte[data.getInt()];
                        data.get(element);
                        strings.add(new String(element, StandardCharsets.UTF_8));
                    }
                }
            } else if (output.getString("datatype").equals("FP32")) {
                JsonArray data = output.getJsonArray("data");
                floats = new float[data.size()];
                for (int i = 0; i < floats.length; i++) {
                    floats[i] = data.getNumber(i).floatValue();
                }
            } else {
                strings = output.getJsonArray("data").stream().map(String.class::cast).toList();
            }
            outputs.add(new Output(output.getString("name"), output.getString("datatype"), shape, floats, strings));
        }
        assertEquals(body.length(), offset, "the binary part holds exactly the binary outputs");
        return outputs;
    }
}
