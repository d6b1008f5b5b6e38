package dev.vitserve.core.http;

/**
 * One image a request carries.
 *
 * @param name the uploaded file's name or the URL, null for a raw or base64 body
 * @param bytes the encoded image, not yet decoded
 */
public record RequestImage(String name, byte[] bytes) {
}
