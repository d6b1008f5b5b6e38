package dev.vitserve.core.image;

import java.io.IOException;

/**
 * Decodes the pixels of one image format, as stored (EXIF orientation is applied by
 * {@link ImageDecoder}). The seam where a faster decoder for one format (libjpeg-turbo for JPEG,
 * {@link TurboJpegDecoder}) is plugged in. Implementations must be thread-safe.
 */
interface FormatDecoder {

    /**
     * The stored pixels as 8-bit RGB, converted the way Pillow's {@code convert("RGB")} does.
     * Must check the size announced by the header with {@link DecodeLimits#checkPixels} before any
     * pixel data is decoded, and decode under {@link DecodeLimits#watch} where the decode can be stopped. Runtime exceptions and I/O errors are turned into
     * {@link ImageDecodeException}s by the caller.
     */
    RgbImage decode(byte[] data, DecodeLimits limits) throws ImageDecodeException, IOException;

    /**
     * The most bytes a pixel costs while this decoder decodes it (its raster, the samples read from it, the RGB made
     * from them), claimed from the memory budget before any pixel is decoded. By default 12: a 16-bit RGBA raster (8)
     * and the RGB pixels (3), rounded up.
     */
    default int bytesPerPixel() {
        return 12;
    }

    /**
     * The bytes a pixel costs more when the image is turned upright for its EXIF orientation: by default a
     * transposed copy of the RGB pixels.
     */
    default int turnedBytesPerPixel() {
        return 3;
    }

    /**
     * The same pixels, which a decoder may leave in a native buffer (released by closing the
     * result); by default those of {@link #decode} on the heap.
     */
    default DecodedImage decodeStored(byte[] data, DecodeLimits limits) throws ImageDecodeException, IOException {
        return DecodedImage.of(decode(data, limits));
    }
}
