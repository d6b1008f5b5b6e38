package dev.vitserve.core.protocol.oip;

import dev.vitserve.core.http.ApiException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The binary encoding of tensors the Open Inference Protocol shares between REST's binary data
 * extension and gRPC's raw contents: little-endian, row-major; each BYTES element a 4-byte
 * little-endian length and its bytes.
 */
public final class TensorBytes {

    private TensorBytes() {
    }

    /** Reads FP32 values; fails when the size is not a whole number of them. */
    public static float[] floats(ByteBuffer data, String input) {
        if (data.remaining() % Float.BYTES != 0) {
            throw ApiException.badRequest("invalid_tensor", "input '" + input + "': " + data.remaining()
                    + " bytes are not a whole number of FP32 values");
        }
        float[] values = new float[data.remaining() / Float.BYTES];
        data.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        return values;
    }

    /** Reads length-prefixed BYTES elements; fails when a length runs past the data. */
    public static List<byte[]> elements(ByteBuffer data, String input) {
        ByteBuffer in = data.slice().order(ByteOrder.LITTLE_ENDIAN);
        List<byte[]> elements = new ArrayList<>();
        while (in.hasRemaining()) {
            if (in.remaining() < Integer.BYTES) {
                throw ApiException.badRequest("invalid_tensor", "input '" + input + "': BYTES element "
                        + elements.size() + " has " + in.remaining() + " bytes left, too few for its 4-byte length");
            }
            long length = Integer.toUnsignedLong(in.getInt());
            if (length > in.remaining()) {
                throw ApiException.badRequest("invalid_tensor", "input '" + input + "': BYTES element "
                        + elements.size() + " says " + length + " bytes but only " + in.remaining() + " follow");
            }
            byte[] element = new byte[(int) length];
            in.get(element);
            elements.add(element);
        }
        return elements;
    }

    /** FP32 values as little-endian bytes. */
    public static byte[] of(float[] values) {
        ByteBuffer out = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        out.asFloatBuffer().put(values);
        return out.array();
    }

    /** BYTES elements, each after its 4-byte little-endian length. */
    public static byte[] of(List<byte[]> elements) {
        int size = 0;
        for (byte[] element : elements) {
            size += Integer.BYTES + element.length;
        }
        ByteBuffer out = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        for (byte[] element : elements) {
            out.putInt(element.length).put(element);
        }
        return out.array();
    }
}
