package dev.vitserve.core.http;

import io.vertx.ext.web.Route;

/**
 * The transport checks a {@link Door}'s route runs before its handler, in this order: the API key (when
 * there is one); then, for a route with a body, forms decoded or refused, the body read within the
 * receiving bounds, and the {@code --max-requests} admission, so only a complete request takes a slot.
 */
public final class DoorRoutes {

    private final ApiKeyCheck apiKey;
    private final RequestLimiter limiter;
    private final ReceivingLimiter receiving;
    private final BodyReader body;
    private final FormBody forms = new FormBody();
    private final FormBodyRefusal noForms;

    /** {@code apiKey} null when the API is open. */
    DoorRoutes(ApiKeyCheck apiKey, RequestLimiter limiter, ReceivingLimiter receiving, BodyReader body,
               long maxBodySize) {
        this.apiKey = apiKey;
        this.limiter = limiter;
        this.receiving = receiving;
        this.body = body;
        this.noForms = new FormBodyRefusal(maxBodySize);
    }

    /** The route behind the API key, when there is one. */
    public Route guarded(Route route) {
        return apiKey != null ? route.handler(apiKey) : route;
    }

    /** Guarded, then admitted against {@code --max-requests} before any work: a route without a body. */
    public Route admitted(Route route) {
        return guarded(route).handler(limiter);
    }

    /** Guarded, a form body decoded as images may come (multipart or raw), the body read, then admitted. */
    public Route readsForm(Route route) {
        return readsBody(guarded(route).handler(forms));
    }

    /**
     * Guarded, a multipart body refused and a url-encoded one read as raw bytes (the protocol takes JSON or the
     * image itself), the body read, then admitted.
     */
    public Route readsRaw(Route route) {
        return readsBody(guarded(route).handler(noForms).handler(forms));
    }

    /**
     * Guarded, {@code bodyType} run before the body is read (a platform handler that may say how to read it, e.g.
     * as raw bytes whatever the Content-Type), the body read, then admitted.
     */
    public Route readsAs(Route route, io.vertx.ext.web.handler.PlatformHandler bodyType) {
        return readsBody(guarded(route).handler(bodyType));
    }

    private Route readsBody(Route route) {
        return route.handler(receiving).handler(body).handler(limiter);
    }
}
