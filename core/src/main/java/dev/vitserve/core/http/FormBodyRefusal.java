package dev.vitserve.core.http;

import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.PlatformHandler;

/**
 * Refuses a form body (url-encoded or multipart) on the protocol routes before the body handler
 * would parse it as form fields: their clients send JSON, an image or tensors, and a form is
 * what {@code curl -d} sends when no Content-Type is given.
 */
final class FormBodyRefusal implements PlatformHandler {

    private final long maxBodySize;

    FormBodyRefusal(long maxBodySize) {
        this.maxBodySize = maxBodySize;
    }

    @Override
    public void handle(RoutingContext ctx) {
        String type = ImageRequestReader.mediaType(ctx.request().getHeader("Content-Type"));
        if (type.equals("application/x-www-form-urlencoded") || type.equals("multipart/form-data")) {
            EarlyAnswer.send(ctx, new ApiException(415, "unsupported_media_type", "Content-Type " + type
                    + " is not accepted here: send application/json, or the image or tensors with no Content-Type or "
                    + "application/octet-stream (curl -d sends " + type + " unless told otherwise with -H)"), maxBodySize);
            return;
        }
        ctx.next();
    }
}
