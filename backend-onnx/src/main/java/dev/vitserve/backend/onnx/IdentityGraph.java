package dev.vitserve.backend.onnx;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The smallest useful ONNX model, {@code y = Identity(x)} on a float[1], encoded as an ONNX
 * {@code ModelProto} (IR version 8, opset 17) by hand: enough to see whether a device can open a session.
 */
final class IdentityGraph {

    private static final int VARINT = 0;
    private static final int BYTES = 2;
    private static final int FLOAT = 1;

    private IdentityGraph() {
    }

    /** The serialized model. */
    static byte[] bytes() {
        byte[] node = new Message().string(1, "x").string(2, "y").string(4, "Identity").bytes();
        byte[] graph = new Message()
                .message(1, node)
                .string(2, "vitserve-device-probe")
                .message(11, floatVector("x"))
                .message(12, floatVector("y"))
                .bytes();
        byte[] opset = new Message().varint(2, 17).bytes();
        return new Message().varint(1, 8).message(7, graph).message(8, opset).bytes();
    }

    /** A ValueInfoProto: a float tensor of shape [1]. */
    private static byte[] floatVector(String name) {
        byte[] dimension = new Message().varint(1, 1).bytes();
        byte[] shape = new Message().message(1, dimension).bytes();
        byte[] tensorType = new Message().varint(1, FLOAT).message(2, shape).bytes();
        byte[] type = new Message().message(1, tensorType).bytes();
        return new Message().string(1, name).message(2, type).bytes();
    }

    /** Protocol buffer wire format, the few field kinds needed here. */
    private static final class Message {

        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Message varint(int field, long value) {
            tag(field, VARINT);
            writeVarint(value);
            return this;
        }

        Message string(int field, String value) {
            return message(field, value.getBytes(StandardCharsets.UTF_8));
        }

        Message message(int field, byte[] value) {
            tag(field, BYTES);
            writeVarint(value.length);
            out.writeBytes(value);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }

        private void tag(int field, int wireType) {
            writeVarint(((long) field << 3) | wireType);
        }

        private void writeVarint(long value) {
            long rest = value;
            while ((rest & ~0x7FL) != 0) {
                out.write((int) ((rest & 0x7F) | 0x80));
                rest >>>= 7;
            }
            out.write((int) rest);
        }
    }
}
