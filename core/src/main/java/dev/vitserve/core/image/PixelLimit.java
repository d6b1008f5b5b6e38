package dev.vitserve.core.image;

import java.util.Locale;

/**
 * The size rules: the check every decoder makes on the size its header announces, before decoding
 * any pixel, and the check before resizing that the image's shape does not make the resize explode.
 */
final class PixelLimit {

    /**
     * Bound on {@code image height x model width} and {@code image width x model height}. The resize's
     * work and its filter tables grow with these products, not with the image's pixels: a 64x208082
     * image of a few hundred bytes would cost a core half a second, and a 40000000x1 one would need
     * 640 MB of filter weights. Any image up to 40 megapixels with an aspect ratio a camera or a
     * screenshot gives stays far below (50000 rows make 11.2M at 224).
     */
    static final long MAX_RESIZE_PASS_PIXELS = 16_000_000L;

    private PixelLimit() {
    }

    /** Refuses an impossible size, and a {@code width x height} image of more than {@code maxPixels}. */
    static void check(ImageFormat format, long width, long height, long maxPixels) throws ImageDecodeException {
        if (width <= 0 || height <= 0) {
            throw new ImageDecodeException(ImageDecodeException.Reason.CORRUPT, "the " + format.displayName()
                    + " header gives an impossible size of " + width + "x" + height + " pixels");
        }
        if (width * height > maxPixels) {
            throw new ImageDecodeException(ImageDecodeException.Reason.TOO_MANY_PIXELS, String.format(Locale.ROOT,
                    "image is %dx%d = %s megapixels, over the limit of %s megapixels", width, height,
                    megapixels(width * height), megapixels(maxPixels)));
        }
    }

    /** Refuses an image whose resize to {@code toWidth x toHeight} would pass {@link #MAX_RESIZE_PASS_PIXELS}. */
    static void checkResize(int width, int height, int toWidth, int toHeight) throws ImageDecodeException {
        long work = Math.max((long) height * toWidth, (long) width * toHeight);
        if (work > MAX_RESIZE_PASS_PIXELS) {
            throw new ImageDecodeException(ImageDecodeException.Reason.TOO_MANY_PIXELS, "image is " + width + "x"
                    + height + ", too elongated to resize to " + toWidth + "x" + toHeight + ": one of its sides times"
                    + " the model's other side is " + megapixels(work) + " million, over the limit of "
                    + megapixels(MAX_RESIZE_PASS_PIXELS) + " million (crop it closer to the subject)");
        }
    }

    /** {@code pixels} in megapixels, as a message shows them. */
    static String megapixels(long pixels) {
        double mp = pixels / 1e6;
        return mp >= 10 || mp == Math.rint(mp) ? String.format(Locale.ROOT, "%.0f", mp)
                : String.format(Locale.ROOT, "%.1f", mp);
    }
}
