package dev.vitserve.core.protocol.oip;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vitserve.core.http.ApiException;
import dev.vitserve.core.http.ErrorResponses;
import dev.vitserve.core.image.ImageDecodeException;
import dev.vitserve.core.inference.QueueFullException;
import dev.vitserve.core.registry.ModelException;
import io.vertx.grpc.common.GrpcStatus;
import org.junit.jupiter.api.Test;

/** Every refusal the pipeline and the limits produce reaches a gRPC client as the status the protocol uses. */
class GrpcStatusTest {

    static GrpcStatus of(Throwable failure) {
        return OipGrpcService.status(ErrorResponses.fromFailure(failure));
    }

    @Test
    void overloadIsResourceExhaustedAndNotReadyIsUnavailable() {
        assertEquals(GrpcStatus.RESOURCE_EXHAUSTED, of(new QueueFullException("all 64 places are taken")));
        assertEquals(GrpcStatus.RESOURCE_EXHAUSTED, of(ApiException.unavailable("overloaded", "busy", 1)));
        assertEquals(GrpcStatus.UNAVAILABLE, of(ApiException.unavailable("not_ready", "loading", 5)));
    }

    @Test
    void badInputIsInvalidArgumentAndAnUnknownModelNotFound() {
        assertEquals(GrpcStatus.INVALID_ARGUMENT, of(ApiException.badRequest("invalid_tensor", "wrong shape")));
        assertEquals(GrpcStatus.INVALID_ARGUMENT, of(ApiException.tooLarge("too_many_images", "17 images")));
        assertEquals(GrpcStatus.INVALID_ARGUMENT, of(new ImageDecodeException(ImageDecodeException.Reason.TOO_MANY_PIXELS,
                "too many pixels")));
        assertEquals(GrpcStatus.INVALID_ARGUMENT, of(new ImageDecodeException(ImageDecodeException.Reason.UNSUPPORTED_FORMAT,
                "not an image")));
        assertEquals(GrpcStatus.NOT_FOUND, of(new ApiException(404, "unknown_model", "no such model")));
        assertEquals(GrpcStatus.UNAUTHENTICATED, of(new ApiException(401, "unauthorized", "no key")));
    }

    @Test
    void theManagementsRefusalsSayWhatStandsInTheWay() {
        assertEquals(GrpcStatus.ALREADY_EXISTS, of(new ModelException(ModelException.Reason.DUPLICATE_NAME, "a is there")));
        assertEquals(GrpcStatus.RESOURCE_EXHAUSTED, of(new ModelException(ModelException.Reason.TOO_MANY_MODELS, "8 of 8")));
        assertEquals(GrpcStatus.FAILED_PRECONDITION, of(new ModelException(ModelException.Reason.BUSY, "reloading")));
        assertEquals(GrpcStatus.FAILED_PRECONDITION, of(new ModelException(ModelException.Reason.DEFAULT_MODEL, "default")));
        assertEquals(GrpcStatus.INVALID_ARGUMENT, of(new ModelException(ModelException.Reason.INVALID_MODEL, "not a ViT")));
        assertEquals(GrpcStatus.NOT_FOUND, of(new ModelException(ModelException.Reason.UNKNOWN_MODEL, "no such model")));
    }
}
