package dev.vitserve.core.image;

import java.util.Locale;

/** The check every decoder makes on the size its header announces, before decoding any pixel. */
final class PixelLimit {

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

    private static String megapixels(long pixels) {
        double mp = pixels / 1e6;
        return mp >= 10 || mp == Math.rint(mp) ? String.format(Locale.ROOT, "%.0f", mp)
                : String.format(Locale.ROOT, "%.1f", mp);
    }
}
