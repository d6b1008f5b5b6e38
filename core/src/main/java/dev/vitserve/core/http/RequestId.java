package dev.vitserve.core.http;

import io.vertx.ext.web.RoutingContext;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Gives every request an id: the client's {@code X-Request-Id} when it is a plain token of at
 * most 128 characters (it is attacker input and goes into logs), else a new random UUID. The id
 * is returned in the answer's {@code X-Request-Id} and written to the access log and error log.
 */
public final class RequestId {

    /** The header a request id travels in, both ways. */
    public static final String HEADER = "X-Request-Id";
    /** Longest id taken from a client. */
    public static final int MAX_LENGTH = 128;
    private static final Pattern ACCEPTED = Pattern.compile("[A-Za-z0-9._:+/=-]{1," + MAX_LENGTH + "}");
    private static final String KEY = "vitserve.requestId";

    private RequestId() {
    }

    /** Assigns the id (accepted or made) and puts it on the answer. */
    static void assign(RoutingContext ctx) {
        String id = accepted(ctx.request().getHeader(HEADER));
        ctx.put(KEY, id);
        ctx.response().putHeader(HEADER, id);
    }

    /** The id given, when it is acceptable; else a new one. */
    static String accepted(String given) {
        return given != null && ACCEPTED.matcher(given).matches() ? given : UUID.randomUUID().toString();
    }

    /** The request's id, or "-" before one is assigned. */
    static String of(RoutingContext ctx) {
        String id = ctx.get(KEY);
        return id != null ? id : "-";
    }
}
