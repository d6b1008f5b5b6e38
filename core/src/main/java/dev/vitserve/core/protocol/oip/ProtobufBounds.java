package dev.vitserve.core.protocol.oip;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.vertx.grpc.common.GrpcStatus;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Counts what a protobuf message would build before it is parsed, from its bytes alone, and refuses it
 * (INVALID_ARGUMENT, naming the bound) when a count passes its bound: a 20 MB message can hold 10 million empty
 * {@code inputs} or a packed {@code shape} of 20 million zeros, each of which the parser would turn into an
 * object or a 64-bit number. The bounds: {@value #MAX_TENSORS} inputs, outputs and raw contents, {@value #MAX_DIMS}
 * shape dimensions, {@value #MAX_PARAMETERS} entries in a parameter map, {@value #MAX_REPEATED} entries in any other
 * repeated field of messages, strings or bytes, and all fields and numbers of the message together at most a quarter
 * of its byte limit (4 bytes each on average; a packed FP32 tensor is exactly that). Fields the schema does not know
 * are counted, then dropped by the parser (see {@link GrpcMessages}).
 */
final class ProtobufBounds {

    static final int MAX_TENSORS = 16;
    static final int MAX_DIMS = 8;
    static final int MAX_PARAMETERS = 64;
    static final int MAX_REPEATED = 1024;

    private final long maxEntries;
    private long entries;

    private ProtobufBounds(long maxMessageSize) {
        this.maxEntries = Math.max(1024, maxMessageSize / 4);
    }

    /** Refuses the message when a count passes its bound; a message the scan cannot read is INVALID_ARGUMENT too. */
    static void check(Descriptor type, byte[] bytes, int length, long maxMessageSize) {
        CodedInputStream input = CodedInputStream.newInstance(bytes, 0, length);
        try {
            new ProtobufBounds(maxMessageSize).scan(type, input, new Instance());
        } catch (InvalidProtocolBufferException e) {
            throw new GrpcRefusal(GrpcStatus.INVALID_ARGUMENT, "the message is not a valid " + type.getName()
                    + ": " + e.getMessage());
        } catch (IOException e) {
            throw new GrpcRefusal(GrpcStatus.INVALID_ARGUMENT, "the message is not a valid " + type.getName());
        }
    }

    /** The counts of one message instance: an instance's singular message fields merge, so theirs are shared. */
    private static final class Instance {
        final Map<Integer, Long> counts = new HashMap<>();
        final Map<Integer, Instance> singular = new HashMap<>();
    }

    private void scan(Descriptor type, CodedInputStream input, Instance instance) throws IOException {
        while (true) {
            int tag = input.readTag();
            if (tag == 0) {
                return;
            }
            entry();
            FieldDescriptor field = type.findFieldByNumber(WireFormat.getTagFieldNumber(tag));
            int wireType = WireFormat.getTagWireType(tag);
            if (field == null || !fits(field, wireType)) {
                if (!input.skipField(tag)) {
                    throw new InvalidProtocolBufferException("an end-group tag without its group");
                }
                continue;
            }
            if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
                count(field, instance, 1);
                Instance nested = field.isRepeated() ? new Instance()
                        : instance.singular.computeIfAbsent(field.getNumber(), n -> new Instance());
                int limit = input.pushLimit(input.readRawVarint32());
                scan(field.getMessageType(), input, nested);
                input.checkLastTagWas(0);
                input.popLimit(limit);
            } else if (wireType == WireFormat.WIRETYPE_LENGTH_DELIMITED && isPackable(field)) {
                int length = input.readRawVarint32();
                long elements = packedElements(field, input, length);
                count(field, instance, elements);
                entries += elements - 1;
                entry();
            } else {
                count(field, instance, 1);
                input.skipField(tag);
            }
        }
    }

    private static boolean fits(FieldDescriptor field, int wireType) {
        if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
            return wireType == WireFormat.WIRETYPE_LENGTH_DELIMITED;
        }
        return true;
    }

    private static boolean isPackable(FieldDescriptor field) {
        return field.isRepeated() && field.getJavaType() != FieldDescriptor.JavaType.STRING
                && field.getJavaType() != FieldDescriptor.JavaType.BYTE_STRING;
    }

    /** The numbers in a packed field's {@code length} bytes, which are skipped. */
    private static long packedElements(FieldDescriptor field, CodedInputStream input, int length) throws IOException {
        switch (field.getLiteType().getWireType()) {
            case WireFormat.WIRETYPE_FIXED32 -> {
                input.skipRawBytes(length);
                return length / 4;
            }
            case WireFormat.WIRETYPE_FIXED64 -> {
                input.skipRawBytes(length);
                return length / 8;
            }
            default -> {
                // a varint ends at each byte whose top bit is clear
                long elements = 0;
                int limit = input.pushLimit(length);
                while (!input.isAtEnd()) {
                    if (input.readRawByte() >= 0) {
                        elements++;
                    }
                }
                input.popLimit(limit);
                return elements;
            }
        }
    }

    private void entry() {
        if (++entries > maxEntries) {
            throw new GrpcRefusal(GrpcStatus.INVALID_ARGUMENT, "the message holds more than " + maxEntries
                    + " fields and numbers, the bound (a quarter of --max-body-size)");
        }
    }

    private static void count(FieldDescriptor field, Instance instance, long more) {
        if (!field.isRepeated()) {
            return;
        }
        long count = instance.counts.merge(field.getNumber(), more, Long::sum);
        int bound = bound(field);
        if (count > bound) {
            throw new GrpcRefusal(GrpcStatus.INVALID_ARGUMENT, field.getContainingType().getName() + "."
                    + field.getName() + " has more than " + bound + " entries, the bound");
        }
    }

    /** The most entries a repeated field may have in one message. */
    static int bound(FieldDescriptor field) {
        if (field.isMapField()) {
            return MAX_PARAMETERS;
        }
        return switch (field.getName()) {
            case "inputs", "outputs", "raw_input_contents" -> MAX_TENSORS;
            case "shape" -> MAX_DIMS;
            default -> field.getJavaType() == FieldDescriptor.JavaType.MESSAGE
                    || field.getJavaType() == FieldDescriptor.JavaType.STRING
                    || field.getJavaType() == FieldDescriptor.JavaType.BYTE_STRING ? MAX_REPEATED : Integer.MAX_VALUE;
        };
    }
}
