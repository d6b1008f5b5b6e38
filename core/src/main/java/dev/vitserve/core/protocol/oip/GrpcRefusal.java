package dev.vitserve.core.protocol.oip;

import io.vertx.grpc.common.GrpcStatus;

/** A call refused for what its client sent: answered with this status and message, never logged with a stack trace. */
final class GrpcRefusal extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient GrpcStatus status;

    GrpcRefusal(GrpcStatus status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    GrpcStatus status() {
        return status;
    }
}
