package dev.vitserve.core.image;

import java.awt.image.BufferedImage;
import java.io.IOException;

/**
 * Decodes the first image of a PNG or BMP file with the JDK's ImageIO reader, under the decode
 * deadline, and reads its raster samples ({@link RasterPixels}). A BMP's size is read from its
 * header here, before the reader sees it: the JDK's reader refuses a huge one as damaged.
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

    @Override
    public RgbImage decode(byte[] data, DecodeLimits limits) throws ImageDecodeException, IOException {
        if (format == ImageFormat.BMP) {
            checkBmpHeader(data, limits);
        }
        try (ImageReaderSession session = ImageReaderSession.open(data, format, formatName, preferredReader, false)) {
            if (format != ImageFormat.BMP) {
                session.checkPixels(limits);
            }
            BufferedImage image = session.underDeadline(limits, reader -> reader.read(0, null));
            return RasterPixels.toRgb(image);
        }
    }

    /**
     * Checks the size in a BMP's info header (at byte 14: its length, then width and height, 16-bit
     * in the 12-byte OS/2 header, else 32-bit with a negative height for top-down rows).
     */
    private static void checkBmpHeader(byte[] data, DecodeLimits limits) throws ImageDecodeException {
        if (data.length < 26) {
            throw new ImageDecodeException(ImageDecodeException.Reason.CORRUPT, "the BMP data ends early (truncated file)");
        }
        boolean os2 = AnnouncedSize.littleEndian(data, 14, 4) == 12;
        long width = os2 ? AnnouncedSize.littleEndian(data, 18, 2) : (int) AnnouncedSize.littleEndian(data, 18, 4);
        long height = os2 ? AnnouncedSize.littleEndian(data, 20, 2) : Math.abs((long) (int) AnnouncedSize.littleEndian(data, 22, 4));
        limits.checkPixels(ImageFormat.BMP, width, height);
    }
}
