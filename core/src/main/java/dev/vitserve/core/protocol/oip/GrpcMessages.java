package dev.vitserve.core.protocol.oip;

import com.google.protobuf.CodedInputStream;
import dev.vitserve.core.compression.BoundedInflater;
import com.google.protobuf.DiscardUnknownFieldsParser;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.vertx.core.buffer.Buffer;
import io.vertx.grpc.common.GrpcStatus;
import java.util.Set;

/**
 * Reads a request message as it arrived (its grpc-encoding, its bytes), on a worker thread: inflates it when
 * compressed (gzip or deflate) within the message size limit, refusing it as soon as the inflated bytes pass it,
 * checks the counts of what it would build ({@link ProtobufBounds}) and only then parses it, dropping the fields the
 * schema does not know rather than keeping them.
 */
final class GrpcMessages {

    /** The grpc-encoding values a request may use ({@code identity} too, or none). */
    static final Set<String> ENCODINGS = Set.of("identity", "gzip", "deflate");
    /** What {@code grpc-accept-encoding} says when an encoding is refused. */
    static final String ACCEPTED = "identity,deflate,gzip";

    private GrpcMessages() {
    }

    static <T extends Message> T read(Message prototype, String encoding, Buffer payload, long maxMessageSize) {
        byte[] bytes;
        int length;
        if (encoding == null || encoding.equals("identity")) {
            bytes = payload.getBytes();
            length = bytes.length;
        } else {
            BoundedInflater.Inflated inflated = inflate(encoding, payload.getBytes(), maxMessageSize);
            bytes = inflated.bytes();
            length = inflated.size();
        }
        ProtobufBounds.check(prototype.getDescriptorForType(), bytes, length, maxMessageSize);
        @SuppressWarnings("unchecked")
        Parser<T> parser = DiscardUnknownFieldsParser.wrap((Parser<T>) prototype.getParserForType());
        try {
            return parser.parseFrom(CodedInputStream.newInstance(bytes, 0, length));
        } catch (InvalidProtocolBufferException e) {
            throw new GrpcRefusal(GrpcStatus.INVALID_ARGUMENT, "the message is not a valid "
                    + prototype.getDescriptorForType().getName() + ": " + e.getMessage());
        }
    }

    private static BoundedInflater.Inflated inflate(String encoding, byte[] compressed, long maxMessageSize) {
        try {
            return BoundedInflater.inflate(encoding, compressed, 0, compressed.length, maxMessageSize);
        } catch (BoundedInflater.TooLarge e) {
            throw new GrpcRefusal(GrpcStatus.RESOURCE_EXHAUSTED, "the " + encoding + " message inflates past "
                    + maxMessageSize + " bytes, the bound (--max-body-size)");
        } catch (BoundedInflater.Malformed e) {
            throw new GrpcRefusal(GrpcStatus.INVALID_ARGUMENT, "the message is not valid " + encoding + " data");
        }
    }
}
