package dev.vitserve.core.protocol.oip;

import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.PlatformHandler;

/**
 * Lets an inference body through whatever its Content-Type, as Triton does: the body is the protocol's JSON, or that
 * JSON followed by binary tensor data as {@code Inference-Header-Content-Length} says, never a form. A form type
 * ({@code application/x-www-form-urlencoded}, what {@code curl -d} and Python's urllib send by default, or
 * {@code multipart/form-data}) is read as raw bytes: it runs before the body reader, which would otherwise parse the
 * body as form fields. A platform handler, since Vert.x lets only those run before the body handler.
 */
public final class InferBodyType implements PlatformHandler {

    @Override
    public void handle(RoutingContext ctx) {
        String type = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
        if (type != null) {
            String media = type.split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT);
            if (media.equals("application/x-www-form-urlencoded") || media.startsWith("multipart/")) {
                ctx.request().headers().set(HttpHeaders.CONTENT_TYPE, "application/octet-stream");
            }
        }
        ctx.next();
    }
}
