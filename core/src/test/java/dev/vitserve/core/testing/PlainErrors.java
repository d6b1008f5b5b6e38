package dev.vitserve.core.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;

/** Checks the error answers of the standard protocols' REST routes: {@code {"error": "<message>"}}. */
public final class PlainErrors {

    private PlainErrors() {
    }

    /** The message of a JSON {@code {"error": "..."}} answer with the status, after checking both. */
    public static String assertPlainError(HttpResponse<Buffer> response, int status) {
        assertEquals(status, response.statusCode(), response.bodyAsString());
        assertTrue(response.getHeader("Content-Type").startsWith("application/json"));
        Object error = response.bodyAsJsonObject().getValue("error");
        assertTrue(error instanceof String text && !text.isBlank(), response.bodyAsString());
        return (String) error;
    }
}
