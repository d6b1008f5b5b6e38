package dev.vitserve.core.http;

import dev.vitserve.core.compression.BoundedInflater;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.impl.RoutingContextInternal;

/**
 * Reads a body sent with {@code Content-Encoding: gzip} or {@code deflate}: the compressed bytes within the body
 * limit, then, on a worker, inflated within the same limit, refused with a 413 as soon as the inflated bytes pass it
 * (a bomb is never inflated whole); data that is not valid for its encoding, a truncated gzip say, is a 400, and any
 * other encoding a 415 naming those offered. The inflated body is then the request's body, as Vert.x's body handler
 * would have set it.
 */
final class CompressedBodyReader {

    private final long maxBodySize;

    CompressedBodyReader(long maxBodySize) {
        this.maxBodySize = maxBodySize;
    }

    /** Whether the request's body is sent compressed (a Content-Encoding other than identity). */
    static boolean compressed(RoutingContext ctx) {
        String encoding = ctx.request().getHeader("Content-Encoding");
        return encoding != null && !encoding.isBlank() && !encoding.trim().equalsIgnoreCase("identity");
    }

    void read(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        String encoding = request.getHeader("Content-Encoding").trim();
        if (!BoundedInflater.inflates(encoding)) {
            EarlyAnswer.send(ctx, new ApiException(415, "unsupported_encoding", "Content-Encoding '"
                    + (encoding.length() > 40 ? encoding.substring(0, 40) + "..." : encoding)
                    + "' is not supported; send the body as is, or with Content-Encoding " + BoundedInflater.OFFERED),
                    maxBodySize);
            return;
        }
        String length = request.getHeader("Content-Length");
        if (length != null && length.matches("\\d{1,18}") && Long.parseLong(length) > maxBodySize) {
            EarlyAnswer.send(ctx, tooLarge("the compressed request body"), maxBodySize);
            return;
        }
        Buffer compressed = Buffer.buffer();
        boolean[] refused = {false};
        long[] received = {0};
        request.handler(chunk -> {
            received[0] += chunk.length();
            if (refused[0]) {
                if (received[0] > 2 * maxBodySize) {
                    request.connection().close();
                }
                return;
            }
            if (received[0] > maxBodySize) {
                // answered now; the rest is thrown away, then the connection closed
                refused[0] = true;
                ctx.response().putHeader("Connection", "close");
                ErrorResponses.send(ctx, tooLarge("the compressed request body"));
                return;
            }
            compressed.appendBuffer(chunk);
        });
        request.exceptionHandler(failure -> refused[0] = true);
        request.endHandler(end -> {
            if (refused[0]) {
                return;
            }
            byte[] bytes = compressed.getBytes();
            ctx.vertx().executeBlocking(() -> BoundedInflater.inflate(encoding, bytes, 0, bytes.length, maxBodySize),
                    false).onComplete(result -> {
                        if (result.succeeded()) {
                            BoundedInflater.Inflated inflated = result.result();
                            ((RoutingContextInternal) ctx).visitHandler(RoutingContextInternal.BODY_HANDLER)
                                    .setBody(Buffer.buffer(inflated.toByteArray()));
                            ctx.next();
                        } else if (result.cause() instanceof BoundedInflater.TooLarge) {
                            ErrorResponses.send(ctx, tooLarge("the " + encoding + " request body, inflated,"));
                        } else if (result.cause() instanceof BoundedInflater.Malformed malformed) {
                            ErrorResponses.send(ctx, ApiException.badRequest("bad_encoding", malformed.getMessage()
                                    + ", as its Content-Encoding says"));
                        } else {
                            ctx.fail(result.cause());
                        }
                    });
        });
        request.resume();
    }

    private ApiException tooLarge(String what) {
        return ErrorResponses.bodyTooLarge(what, maxBodySize, "--max-body-size");
    }
}
