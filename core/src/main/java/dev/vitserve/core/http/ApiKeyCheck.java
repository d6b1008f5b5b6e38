package dev.vitserve.core.http;

import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.PlatformHandler;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** Requires {@code Authorization: Bearer <key>} (compared in constant time); 401 otherwise. */
public final class ApiKeyCheck implements PlatformHandler {

    private final byte[] expected;
    private final long maxBodySize;

    ApiKeyCheck(String key, long maxBodySize) {
        this.expected = ("Bearer " + key).getBytes(StandardCharsets.UTF_8);
        this.maxBodySize = maxBodySize;
    }

    /** Whether an {@code Authorization} value carries the key (compared in constant time). */
    public boolean accepts(String authorization) {
        return authorization != null && MessageDigest.isEqual(expected, authorization.trim().getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void handle(RoutingContext ctx) {
        String given = ctx.request().getHeader("Authorization");
        if (accepts(given)) {
            ctx.next();
            return;
        }
        ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"vitserve\"");
        EarlyAnswer.send(ctx, new ApiException(401, "unauthorized", given == null
                ? "this server needs an API key: send 'Authorization: Bearer <key>'"
                : "the API key is wrong"), maxBodySize);
    }
}
