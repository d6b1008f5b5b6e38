package dev.vitserve.core.image;

import java.io.IOException;
import java.util.Locale;

/**
 * Decodes JPEG with libjpeg-turbo through its TurboJPEG API: the very library and settings Pillow
 * decodes with (full size, accurate integer IDCT, fancy upsampling), so the same pixels, about three
 * times faster than the JDK's reader. Thread-safe: each decode borrows a decompressor from a pool.
 *
 * <p>libjpeg-turbo also decides the colour space (its own guess from the JFIF and Adobe markers and
 * the component ids) and converts YCbCr (and RGB) JPEGs to RGB and YCCK to CMYK itself; grey is
 * replicated and CMYK converted to RGB as Pillow does. A JPEG whose data ends before its EOI marker
 * is refused as truncated, as Pillow refuses it; libjpeg would fill the rest with grey.
 */
final class TurboJpegDecoder implements FormatDecoder {

    private final TurboJpegPool pool;

    TurboJpegDecoder(TurboJpegPool pool) {
        this.pool = pool;
    }

    @Override
    public RgbImage decode(byte[] data, long maxPixels) throws ImageDecodeException, IOException {
        try (TurboJpegPixels pixels = decodeToBuffer(data, maxPixels)) {
            return pixels.toRgbImage();
        }
    }

    @Override
    public DecodedImage decodeStored(byte[] data, long maxPixels) throws ImageDecodeException, IOException {
        return DecodedImage.of(decodeToBuffer(data, maxPixels));
    }

    /** The stored pixels, left in the decompressor's native buffer; close them to give it back. */
    TurboJpegPixels decodeToBuffer(byte[] data, long maxPixels) throws ImageDecodeException, IOException {
        TurboJpegDecompressor decompressor = pool.borrow();
        boolean handedOver = false;
        try {
            TurboJpegDecompressor.Header header = decompressor.readHeader(data);
            PixelLimit.check(ImageFormat.JPEG, header.width(), header.height(), maxPixels);
            TurboJpegPixels.Layout layout = layout(header.colorspace());
            if ((long) header.width() * header.height() * layout.bytesPerPixel > Integer.MAX_VALUE - 16) {
                throw new ImageDecodeException(ImageDecodeException.Reason.TOO_MANY_PIXELS,
                        "image is " + header.width() + "x" + header.height() + ", too large to decode");
            }
            String warning = decompressor.decompress(header, layout.pixelFormat, layout.bytesPerPixel);
            if (warning != null && isTruncated(data, warning)) {
                throw new ImageDecodeException(ImageDecodeException.Reason.CORRUPT,
                        "the JPEG data ends early (truncated file)");
            }
            TurboJpegPixels pixels = new TurboJpegPixels(pool, decompressor, header.width(), header.height(), layout);
            handedOver = true;
            return pixels;
        } finally {
            if (!handedOver) {
                pool.giveBack(decompressor);
            }
        }
    }

    private static TurboJpegPixels.Layout layout(int colorspace) throws ImageDecodeException {
        return switch (colorspace) {
            case TurboJpegLibrary.TJCS_GRAY -> TurboJpegPixels.Layout.GRAY;
            case TurboJpegLibrary.TJCS_CMYK, TurboJpegLibrary.TJCS_YCCK -> TurboJpegPixels.Layout.CMYK;
            case TurboJpegLibrary.TJCS_RGB, TurboJpegLibrary.TJCS_YCBCR -> TurboJpegPixels.Layout.RGB;
            default -> throw new ImageDecodeException(ImageDecodeException.Reason.UNSUPPORTED_FORMAT,
                    "JPEG images in this colour space are not supported");
        };
    }

    /**
     * Whether libjpeg ran out of data: its warning says so, or (when an earlier warning hid that
     * one: libjpeg keeps only the first) the data holds no EOI marker where decoding would reach it.
     */
    private static boolean isTruncated(byte[] data, String warning) {
        return warning.toLowerCase(Locale.ROOT).contains("premature end of jpeg file")
                || !JpegMarkers.reachesEndOfImage(data);
    }
}
