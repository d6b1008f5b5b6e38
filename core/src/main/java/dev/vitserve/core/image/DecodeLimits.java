package dev.vitserve.core.image;

/**
 * What one decode may spend: pixels (the per-image cap, and what is left of its request's
 * allowance, both checked on the size the header announces) and time ({@link DecodeDeadline}).
 */
final class DecodeLimits {

    private final long maxPixels;
    private final RequestPixels request;
    private final DecodeDeadline deadline;

    DecodeLimits(long maxPixels, RequestPixels request, DecodeDeadline deadline) {
        this.maxPixels = maxPixels;
        this.request = request;
        this.deadline = deadline;
    }

    /** Refuses an impossible size or one over the cap, then claims the pixels from the request's allowance. */
    void checkPixels(ImageFormat format, long width, long height) throws ImageDecodeException {
        PixelLimit.check(format, width, height, maxPixels);
        request.claim(width * height);
    }

    /** Starts the deadline of a decode that {@code abort} can stop (see {@link DecodeDeadline#watch}). */
    DecodeDeadline.Watch watch(ImageFormat format, Runnable abort) {
        return deadline.watch(format, abort);
    }
}
