package dev.vitserve.core.http;

import dev.vitserve.core.image.ImageDecodeException;
import dev.vitserve.core.inference.QueueFullException;
import dev.vitserve.core.registry.ModelException;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.PlatformHandler;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every error leaves vitserve as {@code {"error": {"code": ..., "message": ...}}} with the
 * right status; unexpected failures are logged with their stack trace and answered with a
 * plain 500 that reveals nothing inside.
 */
public final class ErrorResponses {

    private static final Logger LOG = LoggerFactory.getLogger(ErrorResponses.class);
    private static final String PLAIN_ERRORS = "vitserve.plainErrors";

    private ErrorResponses() {
    }

    /**
     * Installs the JSON error pages on the router for the statuses Vert.x produces itself.
     *
     * @param plainErrorPaths paths whose unknown-path and wrong-method answers are {@code {"error": "..."}}
     * @param known the listener's paths: a wrong method on one is a 405 with {@code Allow}, on any other path a 404
     * @param maxBody the listener's body limit, which a 413 for a body past it names
     * @param maxBodySetting the option that sets it, or null when it is fixed
     */
    static void install(Router router, Pattern plainErrorPaths, KnownPaths known, long maxBody, String maxBodySetting) {
        // a client that went away mid-request (an aborted upload) is no server fault: no answer can reach it, so no
        // error page and no "Unhandled exception in router" with its stack trace; the access log says 499
        router.route().failureHandler(ctx -> {
            if (ctx.response().closed()) {
                LOG.debug("{} {}: the client closed the connection before the answer (request {})",
                        ctx.request().method(), ctx.request().path(), RequestId.of(ctx));
                return;
            }
            ctx.next();
        });
        router.errorHandler(400, ctx -> send(ctx, toApiException(ctx, 400, "bad_request", "the request is malformed")));
        // Vert.x's CORS handler fails a request from an origin not in --cors-origins with 403
        router.errorHandler(403, ctx -> send(ctx, toApiException(ctx, 403, "origin_not_allowed",
                "requests from origin " + ctx.request().getHeader("Origin") + " are not allowed (see --cors-origins)")));
        router.errorHandler(404, ctx -> send(plainOn(ctx, plainErrorPaths), notFound(ctx)));
        // Vert.x says 405 when any route's path matched, the page's catch-all included: only a path served is a 405
        router.errorHandler(405, ctx -> {
            java.util.Set<String> allowed = known.allowed(ctx.request().path());
            if (allowed.isEmpty()) {
                send(plainOn(ctx, plainErrorPaths), notFound(ctx));
                return;
            }
            ctx.response().putHeader("Allow", String.join(", ", allowed));
            send(plainOn(ctx, plainErrorPaths), new ApiException(405, "method_not_allowed", ctx.request().method()
                    + " is not allowed on " + ctx.request().path() + "; it takes " + String.join(", ", allowed)));
        });
        ApiException bodyTooLarge = bodyTooLarge("the request body", maxBody, maxBodySetting);
        router.errorHandler(413, ctx -> {
            ApiException known413 = fromFailure(ctx.failure());
            send(ctx, known413 != null ? known413 : bodyTooLarge);
        });
        router.errorHandler(415, ctx -> send(ctx, toApiException(ctx, 415, "unsupported_media_type",
                "unsupported Content-Type")));
        router.errorHandler(500, ctx -> send(ctx, toApiException(ctx, 500, "internal_error",
                "the server failed to answer; the failure is in its log")));
        router.errorHandler(503, ctx -> send(ctx, toApiException(ctx, 503, "unavailable",
                "the server cannot answer now; try again shortly")));
    }

    /**
     * The 413 of a body past the limit, worded alike for raw, multipart and compressed bodies: {@code what} ("the
     * request body") is larger than the limit, and which option sets it.
     */
    public static ApiException bodyTooLarge(String what, long maxBody, String maxBodySetting) {
        return ApiException.tooLarge("body_too_large", what + " exceeds the body limit of "
                + dev.vitserve.core.config.ByteSizeConverter.format(maxBody)
                + (maxBodySetting == null ? "" : " (" + maxBodySetting + ")"));
    }

    private static ApiException notFound(RoutingContext ctx) {
        return new ApiException(404, "not_found", "no such resource: " + ctx.request().method() + " "
                + ctx.request().path());
    }

    private static RoutingContext plainOn(RoutingContext ctx, Pattern plainErrorPaths) {
        if (plainErrorPaths.matcher(ctx.request().path()).matches()) {
            ctx.put(PLAIN_ERRORS, true);
        }
        return ctx;
    }

    private static ApiException toApiException(RoutingContext ctx, int status, String code, String message) {
        ApiException known = fromFailure(ctx.failure());
        if (known != null) {
            return known;
        }
        if (status >= 500 && ctx.failure() != null) {
            LOG.error("{} {} failed (request {})", ctx.request().method(), ctx.request().path(), RequestId.of(ctx),
                    ctx.failure());
        }
        return new ApiException(status, code, message);
    }

    /** Maps what vitserve's own code throws to an API error; null when the failure is unexpected. */
    public static ApiException fromFailure(Throwable failure) {
        if (failure instanceof ApiException api) {
            return api;
        }
        if (failure instanceof ImageDecodeException decode) {
            return switch (decode.reason()) {
                case EMPTY -> new ApiException(400, "empty_image", decode.getMessage());
                case TOO_MANY_PIXELS -> new ApiException(413, "too_many_pixels", decode.getMessage());
                case TOO_COMPLEX -> new ApiException(413, "image_too_complex", decode.getMessage());
                case TOO_SLOW -> new ApiException(415, "decode_timeout", decode.getMessage());
                case BUSY -> ApiException.unavailable("overloaded", decode.getMessage(), 1);
                case UNSUPPORTED_FORMAT -> new ApiException(415, "unsupported_format", decode.getMessage());
                default -> new ApiException(415, "corrupt_image", decode.getMessage());
            };
        }
        if (failure instanceof ModelException model) {
            return fromModel(model);
        }
        if (failure instanceof dev.vitserve.core.model.WrongTaskException wrongTask) {
            return new ApiException(422, "wrong_task", wrongTask.getMessage());
        }
        if (failure instanceof QueueFullException full) {
            return ApiException.unavailable("overloaded", "the server is busy: " + full.getMessage()
                    + "; retry after the time in Retry-After", 1);
        }
        if (failure != null && failure.getCause() != null && failure.getCause() != failure) {
            return fromFailure(failure.getCause());
        }
        return null;
    }

    /** The API error for a model the registry refuses. */
    static ApiException fromModel(ModelException e) {
        return switch (e.reason()) {
            case UNKNOWN_MODEL -> new ApiException(404, "unknown_model", e.getMessage());
            case NOT_READY -> ApiException.unavailable("not_ready", e.getMessage(), 5);
            case DUPLICATE_NAME -> new ApiException(409, "model_exists", e.getMessage());
            case TOO_MANY_MODELS -> new ApiException(409, "too_many_models", e.getMessage());
            case BUSY -> new ApiException(409, "model_busy", e.getMessage());
            case DEFAULT_MODEL -> new ApiException(409, "default_model", e.getMessage());
            case INVALID_MODEL -> new ApiException(400, "invalid_model", e.getMessage());
        };
    }

    /** Answers with the error unless a response has already started. */
    public static void send(RoutingContext ctx, ApiException error) {
        HttpServerResponse response = ctx.response();
        if (response.headWritten() || response.ended() || response.closed()) {
            return;
        }
        response.setStatusCode(error.status()).putHeader("Content-Type", "application/json");
        if (error.retryAfterSeconds() != null) {
            response.putHeader("Retry-After", String.valueOf(error.retryAfterSeconds()));
        }
        response.end(Boolean.TRUE.equals(ctx.get(PLAIN_ERRORS)) ? new JsonObject().put("error", error.getMessage()).encode()
                : json(error.code(), error.getMessage()));
    }

    /** The JSON body of an error. */
    static String json(String code, String message) {
        return new JsonObject().put("error", new JsonObject().put("code", code).put("message", message)).encode();
    }

    /**
     * Answers a request the HTTP decoder refused before routing (a request line or headers too long,
     * a bad Content-Length, conflicting framing) with a JSON error, and closes the connection: its
     * remaining bytes cannot be trusted to start the next request. Completes once the answer is written.
     */
    public static Future<Void> invalidRequest(HttpServerRequest request) {
        Throwable cause = request.decoderResult().cause();
        ApiException error;
        if (cause instanceof StrictRequestDecoder.ProtocolError protocol) {
            error = new ApiException(protocol.status, protocol.code, protocol.getMessage());
        } else if (cause instanceof TooLongHttpLineException) {
            error = new ApiException(414, "uri_too_long", "the request line is longer than this server accepts");
        } else if (cause instanceof TooLongHttpHeaderException) {
            error = new ApiException(431, "headers_too_large", "the request headers are larger than this server accepts");
        } else {
            error = ApiException.badRequest("bad_request", "the request is malformed"
                    + (cause == null || cause.getMessage() == null ? "" : ": " + cause.getMessage()));
        }
        return request.response().setStatusCode(error.status()).putHeader("Content-Type", "application/json")
                .putHeader("Connection", "close").end(json(error.code(), error.getMessage()));
    }

    /**
     * A route handler marking the request's errors, its early refusals included, to be answered as the
     * Open Inference Protocol and Hugging Face's endpoints answer them: {@code {"error": "<message>"}}.
     */
    public static final PlatformHandler PLAIN_ERRORS_HANDLER = ctx -> {
        ctx.put(PLAIN_ERRORS, true);
        ctx.next();
    };

    /** Fails the request with whatever went wrong, as a JSON error. */
    public static void fail(RoutingContext ctx, Throwable failure) {
        ApiException known = fromFailure(failure);
        if (known != null) {
            send(ctx, known);
        } else {
            ctx.fail(500, failure);
        }
    }
}
