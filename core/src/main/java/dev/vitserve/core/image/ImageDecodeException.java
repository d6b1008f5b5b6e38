package dev.vitserve.core.image;

import java.util.Objects;

/** Why an upload could not become pixels (or a tensor); the HTTP layer maps reasons to status codes. */
public final class ImageDecodeException extends Exception {

    private static final long serialVersionUID = 1L;

    /** The kinds of failure a client can be told about. */
    public enum Reason {
        /** No bytes at all. */
        EMPTY,
        /** The bytes are not one of the accepted image formats (or a variant of one that is not supported). */
        UNSUPPORTED_FORMAT,
        /** The bytes claim to be an image but cannot be decoded: truncated, damaged, inconsistent. */
        CORRUPT,
        /** The header announces more pixels than the configured limit, or the request's images add up to more. */
        TOO_MANY_PIXELS,
        /** Within the pixel limit, but structured to cost far more work than its pixels (a JPEG with too many scans). */
        TOO_COMPLEX,
        /** Decoding took more CPU than the per-image deadline and was stopped. */
        TOO_SLOW,
        /** The machine was too busy to decode the image within a few deadlines; nothing wrong with the image. */
        BUSY,
        /** Resizing is switched off in the model's preprocessor and the image is not the size the model needs. */
        WRONG_SIZE
    }

    private final Reason reason;

    /** An exception with a reason and one sentence a person understands. */
    public ImageDecodeException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** Same, keeping the decoder's exception as the cause (for logs, never for clients). */
    public ImageDecodeException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** Why decoding failed. */
    public Reason reason() {
        return reason;
    }
}
