package dev.vitserve.core.image;

import java.io.IOException;

/**
 * Decodes the pixels of one image format, as stored (EXIF orientation is applied by
 * {@link ImageDecoder}). The seam where a faster decoder for one format (e.g. libjpeg-turbo for
 * JPEG) can be plugged in. Implementations must be thread-safe.
 */
interface FormatDecoder {

    /**
     * The stored pixels as 8-bit RGB, converted the way Pillow's {@code convert("RGB")} does.
     * Must check the pixel count announced by the header against {@code maxPixels} before any
     * pixel data is decoded. Runtime exceptions and I/O errors are turned into
     * {@link ImageDecodeException}s by the caller.
     */
    RgbImage decode(byte[] data, long maxPixels) throws ImageDecodeException, IOException;
}
