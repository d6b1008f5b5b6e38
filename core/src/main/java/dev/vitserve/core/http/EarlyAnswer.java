package dev.vitserve.core.http;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;

/**
 * Refuses a request before its body is read, without dropping the connection: the body is
 * read and thrown away (up to the body limit; beyond it the connection is closed after the
 * answer), so the client always gets to read the answer instead of a reset.
 */
final class EarlyAnswer {

    private EarlyAnswer() {
    }

    static void send(RoutingContext ctx, ApiException error, long maxBodySize) {
        HttpServerRequest request = ctx.request();
        if (request.isEnded()) {
            ErrorResponses.send(ctx, error);
            return;
        }
        long[] seen = {0};
        request.handler(chunk -> {
            seen[0] += chunk.length();
            if (seen[0] > maxBodySize && !ctx.response().ended()) {
                ctx.response().putHeader("Connection", "close");
                ErrorResponses.send(ctx, error);
            }
        });
        request.endHandler(end -> ErrorResponses.send(ctx, error));
        request.exceptionHandler(failure -> { });
        request.resume();
    }
}
