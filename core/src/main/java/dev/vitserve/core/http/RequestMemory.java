package dev.vitserve.core.http;

import dev.vitserve.core.memory.MemoryBudget;
import io.vertx.ext.web.RoutingContext;

/**
 * A request's own bytes held from the {@link MemoryBudget}: its body (claimed from its Content-Length before it is
 * read, by the {@link ReceivingLimiter}) and the images fetched for it (as they arrive, by the {@link UrlFetcher}),
 * given back exactly once when the request ends in any way: answered, failed, or its client gone.
 */
final class RequestMemory {

    private static final String KEY = "vitserve.requestMemory";

    /** Copies of a raw body the server holds at once: the body as it arrived, and the bytes taken from it. */
    static final int RAW_COPIES = 2;
    /** A multipart body: the decoder's undecoded bytes, each file's buffer, the bytes taken from it. */
    static final int MULTIPART_COPIES = 3;
    /** A JSON body: the body, the bytes parsed, the parsed string, the image decoded from its base64. */
    static final int JSON_COPIES = 4;

    private RequestMemory() {
    }

    /** The request's claim, made (empty) the first time, and given back when the request ends. */
    static MemoryBudget.Claim of(RoutingContext ctx, MemoryBudget budget) {
        MemoryBudget.Claim claim = ctx.get(KEY);
        if (claim == null) {
            claim = budget.claim(MemoryBudget.Kind.REQUEST, 0);
            ctx.put(KEY, claim);
            MemoryBudget.Claim made = claim;
            ctx.addEndHandler(done -> made.close());
        }
        return claim;
    }

    /** How many times a body of this Content-Type is held in memory at once while the request is worked on. */
    static int copies(String contentType) {
        String type = ImageRequestReader.mediaType(contentType);
        if (type.equals("multipart/form-data")) {
            return MULTIPART_COPIES;
        }
        return type.equals("application/json") || type.endsWith("+json") ? JSON_COPIES : RAW_COPIES;
    }
}
