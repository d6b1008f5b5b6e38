package dev.vitserve.core.inference;

/** The inference queue is full; the client should retry later (HTTP 503 with Retry-After). */
public final class QueueFullException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public QueueFullException(String message) {
        super(message, null, false, false);
    }
}
