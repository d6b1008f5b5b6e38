package dev.vitserve.core.image;

import java.util.Arrays;

/**
 * An upright 8-bit RGB image: EXIF orientation applied, interleaved R,G,B, rows top to bottom.
 *
 * <p>The pixel array is not copied (images are large); callers must not change it once the image
 * is handed on. {@code pixels.length == width * height * 3}.
 */
public record RgbImage(int width, int height, byte[] pixels) {

    /** Checks the size and that the pixel array holds exactly {@code width * height * 3} bytes. */
    public RgbImage {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        if (pixels == null) {
            throw new IllegalArgumentException("pixels must not be null");
        }
        if ((long) width * height * 3 != pixels.length) {
            throw new IllegalArgumentException("a " + width + "x" + height + " RGB image needs "
                    + (long) width * height * 3 + " bytes, got " + pixels.length);
        }
    }

    /** The red, green or blue value (0..255) of the pixel at column x, row y. */
    public int sample(int x, int y, int channel) {
        return pixels[(y * width + x) * 3 + channel] & 0xFF;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof RgbImage that && width == that.width && height == that.height
                && Arrays.equals(pixels, that.pixels);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * width + height) + Arrays.hashCode(pixels);
    }

    @Override
    public String toString() {
        return "RgbImage[" + width + "x" + height + "]";
    }
}
