package dev.vitserve.core.http;

import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.PlatformHandler;

/**
 * Refuses a multipart body on the routes that take the image itself as the body, or JSON (Hugging Face's),
 * before the body handler would parse it as form fields. A url-encoded body is no refusal: it is what
 * {@code curl --data-binary @photo.jpg} sends without {@code -H}, and {@link FormBody} reads it as the image.
 */
final class FormBodyRefusal implements PlatformHandler {

    private final long maxBodySize;

    FormBodyRefusal(long maxBodySize) {
        this.maxBodySize = maxBodySize;
    }

    @Override
    public void handle(RoutingContext ctx) {
        String type = ImageRequestReader.mediaType(ctx.request().getHeader("Content-Type"));
        if (type.equals("multipart/form-data")) {
            EarlyAnswer.send(ctx, new ApiException(415, "unsupported_media_type", "Content-Type " + type
                    + " is not accepted here: send the image itself as the body, with any or no Content-Type "
                    + "(curl --data-binary @photo.jpg), or JSON (curl -F sends multipart/form-data)"), maxBodySize);
            return;
        }
        ctx.next();
    }
}
