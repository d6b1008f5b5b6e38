package dev.vitserve.core.image;

/**
 * The pixels an image's header announces, read from its first bytes without decoding, so that a
 * request's images can be refused together before any is decoded ({@link ImageDecoder#announcedPixels}).
 * A hint: 0 where the header does not say or cannot be read; each decoder still checks the size it
 * decodes ({@link DecodeLimits#checkPixels}).
 */
final class AnnouncedSize {

    private AnnouncedSize() {
    }

    /** Width times height as the header of {@code data}, an image in {@code format}, announces it; or 0. */
    static long pixels(ImageFormat format, byte[] data) {
        return switch (format) {
            case JPEG -> JpegMarkers.announcedPixels(data);
            case PNG -> data.length < 24 ? 0 : bigEndian(data, 16, 4) * bigEndian(data, 20, 4); // IHDR
            case GIF -> data.length < 10 ? 0 : littleEndian(data, 6, 2) * littleEndian(data, 8, 2); // logical screen
            case BMP -> bmp(data);
            case WEBP -> webp(data);
        };
    }

    private static long bmp(byte[] data) {
        if (data.length < 26) {
            return 0;
        }
        if (littleEndian(data, 14, 4) == 12) {
            return littleEndian(data, 18, 2) * littleEndian(data, 20, 2); // OS/2 header
        }
        return Math.abs((long) (int) littleEndian(data, 18, 4)) * Math.abs((long) (int) littleEndian(data, 22, 4));
    }

    /** The first chunk's size: VP8X's canvas, VP8's frame or VP8L's image. */
    private static long webp(byte[] data) {
        if (data.length < 30) {
            return 0;
        }
        String chunk = new String(data, 12, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
        return switch (chunk) {
            case "VP8X" -> (littleEndian(data, 24, 3) + 1) * (littleEndian(data, 27, 3) + 1);
            case "VP8 " -> (littleEndian(data, 26, 2) & 0x3FFF) * (littleEndian(data, 28, 2) & 0x3FFF);
            case "VP8L" -> {
                long bits = littleEndian(data, 21, 4);
                yield ((bits & 0x3FFF) + 1) * (((bits >> 14) & 0x3FFF) + 1);
            }
            default -> 0;
        };
    }

    static long littleEndian(byte[] data, int offset, int length) {
        long value = 0;
        for (int i = length - 1; i >= 0; i--) {
            value = value << 8 | (data[offset + i] & 0xFF);
        }
        return value;
    }

    private static long bigEndian(byte[] data, int offset, int length) {
        long value = 0;
        for (int i = 0; i < length; i++) {
            value = value << 8 | (data[offset + i] & 0xFF);
        }
        return value;
    }
}
