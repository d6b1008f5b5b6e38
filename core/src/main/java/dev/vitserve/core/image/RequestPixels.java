package dev.vitserve.core.image;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The pixels one request may have decoded, all its images together: each decode claims its image's
 * pixels from the header, before decoding any, and is refused when the request's allowance is spent.
 * Thread-safe: a request's images are decoded at once on several threads.
 */
public final class RequestPixels {

    private final long allowance;
    private final AtomicLong claimed = new AtomicLong();

    /** An allowance of {@code allowance} pixels. */
    public RequestPixels(long allowance) {
        if (allowance <= 0) {
            throw new IllegalArgumentException("the allowance must be positive, got " + allowance);
        }
        this.allowance = allowance;
    }

    /** No bound beyond the per-image one, for single images decoded outside a request. */
    static RequestPixels unbounded() {
        return new RequestPixels(Long.MAX_VALUE);
    }

    /**
     * Refuses the request at once when its images' headers ({@link ImageDecoder#announcedPixels})
     * add up to more than the allowance, before any is decoded.
     */
    public void checkAnnounced(long pixels) throws ImageDecodeException {
        if (pixels > allowance) {
            throw spent();
        }
    }

    /** Takes {@code pixels} from the allowance, or refuses them (and takes nothing) when too few are left. */
    void claim(long pixels) throws ImageDecodeException {
        long before = claimed.getAndAccumulate(pixels, (c, p) -> c > allowance - p ? c : c + p);
        if (before > allowance - pixels) {
            throw spent();
        }
    }

    private ImageDecodeException spent() {
        return new ImageDecodeException(ImageDecodeException.Reason.TOO_MANY_PIXELS, "the request's images add up to"
                + " more than " + PixelLimit.megapixels(allowance) + " megapixels, this server's limit per request"
                + " (send fewer or smaller images per request)");
    }
}
