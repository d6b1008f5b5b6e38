package dev.vitserve.core.protocol.oip;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vitserve.core.protocol.oip.grpc.InferParameter;
import dev.vitserve.core.protocol.oip.grpc.ModelInferRequest;
import io.vertx.core.buffer.Buffer;
import io.vertx.grpc.common.GrpcStatus;
import org.junit.jupiter.api.Test;

/** The counts of a message are checked from its bytes, before it is built, whatever their shape on the wire. */
class ProtobufBoundsTest {

    static final long LIMIT = 20L * 1024 * 1024;

    static GrpcRefusal refusal(byte[] bytes) {
        return assertThrows(GrpcRefusal.class,
                () -> ProtobufBounds.check(ModelInferRequest.getDescriptor(), bytes, bytes.length, LIMIT));
    }

    static ModelInferRequest.InferInputTensor.Builder input(int dims) {
        ModelInferRequest.InferInputTensor.Builder input = ModelInferRequest.InferInputTensor.newBuilder()
                .setName("pixel_values").setDatatype("FP32");
        for (int i = 0; i < dims; i++) {
            input.addShape(1);
        }
        return input;
    }

    @Test
    void aNormalRequestPassesAndIsParsed() {
        ModelInferRequest request = ModelInferRequest.newBuilder().setModelName("m").addInputs(input(4)
                .setContents(dev.vitserve.core.protocol.oip.grpc.InferTensorContents.newBuilder()
                        .addAllFp32Contents(java.util.Collections.nCopies(150_528, 0.5f))))
                .putParameters("k", InferParameter.newBuilder().setInt64Param(1).build()).build();
        byte[] bytes = request.toByteArray();
        assertDoesNotThrow(() -> ProtobufBounds.check(ModelInferRequest.getDescriptor(), bytes, bytes.length, LIMIT));
        ModelInferRequest read = GrpcMessages.read(ModelInferRequest.getDefaultInstance(), "identity",
                Buffer.buffer(bytes), LIMIT);
        assertEquals(request, read);
    }

    @Test
    void eachBoundIsNamed() {
        ModelInferRequest.Builder inputs = ModelInferRequest.newBuilder();
        for (int i = 0; i < 17; i++) {
            inputs.addInputs(input(1));
        }
        assertTrue(refusal(inputs.build().toByteArray()).getMessage().contains("inputs has more than 16"));
        assertTrue(refusal(ModelInferRequest.newBuilder().addInputs(input(9)).build().toByteArray()).getMessage()
                .contains("shape has more than 8"));
        ModelInferRequest.Builder parameters = ModelInferRequest.newBuilder();
        for (int i = 0; i < 65; i++) {
            parameters.putParameters("p" + i, InferParameter.getDefaultInstance());
        }
        GrpcRefusal refused = refusal(parameters.build().toByteArray());
        assertEquals(GrpcStatus.INVALID_ARGUMENT, refused.status());
        assertTrue(refused.getMessage().contains("parameters has more than 64"), refused.getMessage());
    }

    @Test
    void aShapeSpreadOverRepeatedOccurrencesOfOneInputIsCountedTogether() {
        // a singular message field sent again is merged by the parser: its repeated fields add up
        byte[] tensor = ModelInferRequest.InferInputTensor.newBuilder()
                .setContents(dev.vitserve.core.protocol.oip.grpc.InferTensorContents.newBuilder()
                        .addBytesContents(com.google.protobuf.ByteString.EMPTY)).build().toByteArray();
        // field 5 of InferInputTensor (contents) holding field 8 (bytes_contents) once, repeated 1100 times
        Buffer input = Buffer.buffer();
        byte[] contents = java.util.Arrays.copyOfRange(tensor, 2, tensor.length);
        for (int i = 0; i < 1100; i++) {
            input.appendByte((byte) (5 << 3 | 2)).appendByte((byte) contents.length).appendBytes(contents);
        }
        Buffer message = Buffer.buffer().appendByte((byte) (5 << 3 | 2));
        int length = input.length();
        while ((length & ~0x7F) != 0) {
            message.appendByte((byte) (length & 0x7F | 0x80));
            length >>>= 7;
        }
        message.appendByte((byte) length).appendBuffer(input);
        assertTrue(refusal(message.getBytes()).getMessage().contains("bytes_contents has more than 1024"));
    }

    @Test
    void deeplyNestedUnknownGroupsAreRefusedWithoutExhaustingTheStack() {
        byte[] nested = new byte[2_000_000];
        for (int i = 0; i < nested.length; i += 2) {
            // field 15, START_GROUP: one byte a level
            nested[i] = (byte) (15 << 3 | 3);
            nested[i + 1] = (byte) (15 << 3 | 3);
        }
        GrpcRefusal refused = refusal(nested);
        assertEquals(GrpcStatus.INVALID_ARGUMENT, refused.status());
    }

    @Test
    void unknownFieldsAreDroppedByTheParse() {
        byte[] known = ModelInferRequest.newBuilder().setModelName("m").build().toByteArray();
        byte[] bytes = Buffer.buffer(known).appendByte((byte) (99 << 3 & 0x7F | 0x80)).appendByte((byte) 6)
                .appendByte((byte) 1).getBytes();
        ModelInferRequest read = GrpcMessages.read(ModelInferRequest.getDefaultInstance(), "identity",
                Buffer.buffer(bytes), LIMIT);
        assertEquals("m", read.getModelName());
        assertEquals(0, read.getUnknownFields().asMap().size(), "unknown fields are not kept");
    }
}
