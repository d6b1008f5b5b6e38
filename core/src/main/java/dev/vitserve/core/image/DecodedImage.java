package dev.vitserve.core.image;

/**
 * An upright decoded image on its way to {@link Preprocessor#writeTensor(DecodedImage, java.nio.FloatBuffer)}:
 * either RGB pixels on the heap, or a JPEG still in libjpeg-turbo's native output buffer, which the
 * preprocessor resizes in place instead of copying tens of megabytes first. Close it (try-with-resources)
 * to give that buffer back for the next image. Not thread-safe.
 */
public final class DecodedImage implements AutoCloseable {

    private final RgbImage image;
    private TurboJpegPixels pixels;
    private dev.vitserve.core.memory.MemoryBudget.Claim memory;

    private DecodedImage(RgbImage image, TurboJpegPixels pixels) {
        this.image = image;
        this.pixels = pixels;
    }

    /** Pixels on the heap. */
    static DecodedImage of(RgbImage image) {
        return new DecodedImage(image, null);
    }

    /** Pixels in a native buffer, owned by the new object. */
    static DecodedImage of(TurboJpegPixels pixels) {
        return new DecodedImage(null, pixels);
    }

    /**
     * This stored image turned upright for an EXIF orientation. A turned native image is copied to
     * the heap (turning it in place would need a second buffer as large); orientation 1 keeps it as it is.
     */
    DecodedImage upright(int orientation) {
        if (image != null) {
            RgbImage turned = ExifTranspose.apply(image, orientation);
            return turned == image ? this : of(turned);
        }
        if (orientation == 1 || orientation < 1 || orientation > 8) {
            return this;
        }
        try (TurboJpegPixels stored = pixels) {
            pixels = null;
            return of(ExifTranspose.apply(stored.toRgbImage(), orientation));
        }
    }

    /** Width in pixels. */
    public int width() {
        return image != null ? image.width() : openPixels().width();
    }

    /** Height in pixels. */
    public int height() {
        return image != null ? image.height() : openPixels().height();
    }

    /** The pixels as an {@link RgbImage}: the image itself when on the heap, else a copy of the native buffer. */
    public RgbImage toRgbImage() {
        return image != null ? image : openPixels().toRgbImage();
    }

    /** The heap pixels, or null when they are in a native buffer. */
    RgbImage heapImage() {
        return image;
    }

    /** The pixels read row by row, where they are: on the heap or in a native buffer. */
    RgbRows rows() {
        return image != null ? RgbRows.of(image) : openPixels();
    }

    private TurboJpegPixels openPixels() {
        if (pixels == null) {
            throw new IllegalStateException("the decoded image was already closed");
        }
        return pixels;
    }

    /** Holds the memory budget's claim for these pixels until it is closed (null: none). */
    DecodedImage holding(dev.vitserve.core.memory.MemoryBudget.Claim claim) {
        this.memory = claim;
        return this;
    }

    /**
     * Gives a native buffer back, and the memory claimed for the pixels; the heap pixels stay readable (their owner
     * drops them next).
     */
    @Override
    public void close() {
        if (pixels != null) {
            pixels.close();
            pixels = null;
        }
        if (memory != null) {
            memory.close();
            memory = null;
        }
    }
}
