package dev.vitserve.core.image;

import java.awt.image.BufferedImage;
import java.io.IOException;

/**
 * Decodes the first image of a PNG, BMP or WebP file with an ImageIO reader and reads its raster
 * samples ({@link RasterPixels}). Readers: the JDK's for PNG and BMP, TwelveMonkeys' for WebP.
 * A WebP file shorter than its RIFF header announces is refused as truncated.
 */
final class ImageIoDecoder implements FormatDecoder {

    private final ImageFormat format;
    private final String formatName;
    private final String preferredReader;

    ImageIoDecoder(ImageFormat format, String formatName, String preferredReader) {
        this.format = format;
        this.formatName = formatName;
        this.preferredReader = preferredReader;
    }

    static ImageIoDecoder png() {
        return new ImageIoDecoder(ImageFormat.PNG, "png", "com.sun.imageio.plugins.png.");
    }

    static ImageIoDecoder bmp() {
        return new ImageIoDecoder(ImageFormat.BMP, "bmp", "com.sun.imageio.plugins.bmp.");
    }

    static ImageIoDecoder webp() {
        return new ImageIoDecoder(ImageFormat.WEBP, "webp", "com.twelvemonkeys.imageio.plugins.webp.");
    }

    @Override
    public RgbImage decode(byte[] data, long maxPixels) throws ImageDecodeException, IOException {
        if (format == ImageFormat.WEBP) {
            checkRiffLength(data);
        }
        try (ImageReaderSession session = ImageReaderSession.open(data, format, formatName, preferredReader, false)) {
            session.checkPixelLimit(maxPixels);
            BufferedImage image = session.reader().read(0, null);
            return RasterPixels.toRgb(image);
        }
    }

    /**
     * Refuses a WebP file shorter than its RIFF header says, as libwebp (and so Pillow) does;
     * TwelveMonkeys' reader would decode the missing part as black.
     */
    private static void checkRiffLength(byte[] data) throws ImageDecodeException {
        long riffLength = (data[4] & 0xFFL) | (data[5] & 0xFFL) << 8 | (data[6] & 0xFFL) << 16 | (data[7] & 0xFFL) << 24;
        if (data.length < riffLength + 8) {
            throw new ImageDecodeException(ImageDecodeException.Reason.CORRUPT, "the WebP data ends early (truncated file)");
        }
    }
}
