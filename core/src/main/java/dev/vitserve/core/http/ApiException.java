package dev.vitserve.core.http;

/**
 * A request vitserve will not or cannot answer, with the HTTP status and the
 * {@code {"error": {"code", "message"}}} a client sees.
 */
public final class ApiException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int status;
    private final String code;
    private final Integer retryAfterSeconds;

    public ApiException(int status, String code, String message) {
        this(status, code, message, null);
    }

    public ApiException(int status, String code, String message, Integer retryAfterSeconds) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public static ApiException badRequest(String code, String message) {
        return new ApiException(400, code, message);
    }

    public static ApiException tooLarge(String code, String message) {
        return new ApiException(413, code, message);
    }

    public static ApiException unavailable(String code, String message, int retryAfterSeconds) {
        return new ApiException(503, code, message, retryAfterSeconds);
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    /** Seconds for the {@code Retry-After} header, or null for none. */
    public Integer retryAfterSeconds() {
        return retryAfterSeconds;
    }

    /** The same error about one of several images, named in the message. */
    public ApiException about(String imageName) {
        return imageName == null ? this
                : new ApiException(status, code, "'" + imageName + "': " + getMessage(), retryAfterSeconds);
    }
}
