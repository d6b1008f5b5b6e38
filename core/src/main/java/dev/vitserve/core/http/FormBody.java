package dev.vitserve.core.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.PlatformHandler;

/**
 * Keeps a body declared as {@code application/x-www-form-urlencoded} as raw bytes. curl sends
 * that type for {@code --data-binary @photo.jpg} without {@code -H}, and Vert.x's body handler
 * would try to parse a photo as form fields and fail with a bare 400. Runs before the body
 * handler: it notes the declaration and lets the body through as {@code application/octet-stream},
 * so the bytes decide, as everywhere else (an image is classified, anything else is a 415 that
 * says how to send the image). A platform handler, since Vert.x lets only those run before the
 * body handler.
 */
final class FormBody implements PlatformHandler {

    static final String FORM = "application/x-www-form-urlencoded";
    private static final String DECLARED = "vitserve.formBody";

    @Override
    public void handle(RoutingContext ctx) {
        if (ImageRequestReader.mediaType(ctx.request().getHeader(HttpHeaders.CONTENT_TYPE)).equals(FORM)) {
            ctx.put(DECLARED, Boolean.TRUE);
            ctx.request().headers().set(HttpHeaders.CONTENT_TYPE, "application/octet-stream");
        }
        ctx.next();
    }

    /** Whether the request came as a form and is being read as raw bytes. */
    static boolean declared(RoutingContext ctx) {
        return Boolean.TRUE.equals(ctx.get(DECLARED));
    }
}
