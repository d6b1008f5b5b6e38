package dev.vitserve.core.image;

import java.io.IOException;

/**
 * Decodes JPEG with libjpeg-turbo through its TurboJPEG API: the very library and settings Pillow
 * decodes with (full size, accurate integer IDCT, fancy upsampling), so the same pixels, about twice
 * as fast as the JDK's reader. Thread-safe: each decode borrows a decompressor from a pool,
 * and the pixels stay in its native buffer until the {@link DecodedImage} is closed.
 *
 * <p>libjpeg-turbo also decides the colour space (its own guess from the JFIF and Adobe markers and
 * the component ids) and converts YCbCr (and RGB) JPEGs to RGB and YCCK to CMYK itself; grey is
 * replicated and CMYK converted to RGB as Pillow does.
 *
 * <p>Damaged data is judged as Pillow judges it: libjpeg's warnings (junk between segments, a bad
 * Huffman code) do not stop decoding, errors do, and data that ends before its EOI marker is refused
 * as truncated where libjpeg would fill the rest with grey. Sampling factors TurboJPEG has no name for
 * (e.g. 3x1) are decoded all the same; colour spaces it has no name for go to the fallback decoder.
 */
final class TurboJpegDecoder implements FormatDecoder {

    private final TurboJpegPool pool;
    private final FormatDecoder fallback;

    /**
     * A decoder borrowing decompressors from {@code pool}, handing JPEGs whose colour space TurboJPEG
     * cannot name (two components, which vitserve refuses) to {@code fallback}, to be judged as before.
     */
    TurboJpegDecoder(TurboJpegPool pool, FormatDecoder fallback) {
        this.pool = pool;
        this.fallback = fallback;
    }

    /** The native output buffer: RGBX or CMYK, 4 bytes a pixel (the JPEG is resized from there). */
    @Override
    public int bytesPerPixel() {
        return 4;
    }

    /** Turning copies the native pixels to the heap (4), to RGB (3), then transposes them (3). */
    @Override
    public int turnedBytesPerPixel() {
        return 10;
    }

    @Override
    public RgbImage decode(byte[] data, DecodeLimits limits) throws ImageDecodeException, IOException {
        try (DecodedImage image = decodeStored(data, limits)) {
            return image.toRgbImage();
        }
    }

    @Override
    public DecodedImage decodeStored(byte[] data, DecodeLimits limits) throws ImageDecodeException, IOException {
        TurboJpegDecompressor decompressor = pool.borrow();
        boolean handedOver = false;
        try {
            TurboJpegDecompressor.Header header = decompressor.readHeader(data);
            if (header.colorspace() < 0) {
                return fallback.decodeStored(data, limits.forDecoder(fallback)); // which checks the size itself
            }
            limits.checkPixels(ImageFormat.JPEG, header.width(), header.height());
            TurboJpegPixels.Layout layout = layout(header.colorspace());
            if ((long) header.width() * header.height() * layout.bytesPerPixel > Integer.MAX_VALUE - 16) {
                throw new ImageDecodeException(ImageDecodeException.Reason.TOO_MANY_PIXELS,
                        "image is " + header.width() + "x" + header.height() + ", too large to decode");
            }
            String warning = decompressor.decompress(header, layout.pixelFormat, layout.bytesPerPixel);
            if (warning != null) {
                if (isTruncated(data)) {
                    throw new ImageDecodeException(ImageDecodeException.Reason.CORRUPT,
                            "the JPEG data ends early (truncated file)");
                }
                decompressor.decompressThroughWarnings(header, layout.pixelFormat, layout.bytesPerPixel, warning);
            }
            DecodedImage image = DecodedImage.of(
                    new TurboJpegPixels(pool, decompressor, header.width(), header.height(), layout));
            handedOver = true;
            return image;
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
            case TurboJpegLibrary.TJCS_RGB, TurboJpegLibrary.TJCS_YCBCR -> TurboJpegPixels.Layout.RGBX;
            default -> throw new ImageDecodeException(ImageDecodeException.Reason.UNSUPPORTED_FORMAT,
                    "JPEG images in this colour space are not supported");
        };
    }

    /**
     * Whether libjpeg, having warned, ran out of data. Its "Premature end of JPEG file" warning is no
     * sure sign (libjpeg keeps only its first warning, and damage can make it skip a present EOI
     * while Pillow still takes the image), so: no EOI marker after the first scan ({@link JpegMarkers}).
     */
    private static boolean isTruncated(byte[] data) {
        return !JpegMarkers.hasEndOfImage(data);
    }
}
