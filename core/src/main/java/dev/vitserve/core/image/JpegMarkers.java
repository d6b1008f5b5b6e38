package dev.vitserve.core.image;

import java.util.Arrays;

/**
 * Walks a JPEG's marker segments the way libjpeg reads them (fill bytes, garbage between segments,
 * entropy-coded data with byte stuffing and restart markers), without decoding anything.
 */
final class JpegMarkers {

    private static final int SOS = 0xDA;
    private static final int EOI = 0xD9;
    private static final int APP1 = 0xE1;
    private static final byte[] EXIF = {'E', 'x', 'i', 'f', 0, 0};

    private JpegMarkers() {
    }

    /**
     * Whether a decoder reading {@code jpeg} from its start reaches an EOI marker before the data
     * ends: false for a file cut short anywhere, which libjpeg would complete with grey and Pillow
     * refuses as truncated.
     */
    static boolean reachesEndOfImage(byte[] jpeg) {
        int n = jpeg.length;
        int p = 2; // after SOI
        while (true) {
            while (p < n && (jpeg[p] & 0xFF) != 0xFF) {
                p++; // garbage before a marker: libjpeg skips it (with a warning)
            }
            while (p < n && (jpeg[p] & 0xFF) == 0xFF) {
                p++; // fill bytes
            }
            if (p >= n) {
                return false;
            }
            int marker = jpeg[p++] & 0xFF;
            if (marker == EOI) {
                return true;
            }
            if (marker == 0x00 || marker == 0x01 || marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7)) {
                continue; // no length: stuffed zero or TEM/SOI/RSTn out of place
            }
            if (p + 2 > n) {
                return false;
            }
            p += ((jpeg[p] & 0xFF) << 8) | (jpeg[p + 1] & 0xFF);
            if (p > n) {
                return false;
            }
            if (marker == SOS) {
                p = endOfEntropyCodedData(jpeg, p);
            }
        }
    }

    /** The index of the marker that ends the entropy-coded data starting at {@code p}, or the length. */
    private static int endOfEntropyCodedData(byte[] jpeg, int p) {
        int n = jpeg.length;
        while (p + 1 < n) {
            if ((jpeg[p] & 0xFF) != 0xFF) {
                p++;
                continue;
            }
            int next = jpeg[p + 1] & 0xFF;
            if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
                p += 2; // stuffed 0xFF or a restart marker: the data goes on
            } else if (next == 0xFF) {
                p++; // fill byte before a marker
            } else {
                return p;
            }
        }
        return n;
    }

    /**
     * The payload (after "Exif\0\0") of the first APP1 segment holding EXIF data before the first
     * scan, the one Pillow reads the orientation from; null when there is none or the markers are damaged.
     */
    static byte[] firstExifPayload(byte[] jpeg) {
        int n = jpeg.length;
        int p = 2;
        while (p + 4 <= n) {
            if ((jpeg[p] & 0xFF) != 0xFF) {
                return null; // segments are expected back to back until the first scan
            }
            int marker = jpeg[p + 1] & 0xFF;
            if (marker == 0xFF) {
                p++;
                continue;
            }
            if (marker == SOS || marker == EOI) {
                return null;
            }
            if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {
                p += 2;
                continue;
            }
            int length = ((jpeg[p + 2] & 0xFF) << 8) | (jpeg[p + 3] & 0xFF);
            int start = p + 4;
            int end = p + 2 + length;
            if (length < 2 || end > n) {
                return null;
            }
            if (marker == APP1 && length - 2 >= EXIF.length
                    && Arrays.equals(jpeg, start, start + EXIF.length, EXIF, 0, EXIF.length)) {
                return Arrays.copyOfRange(jpeg, start + EXIF.length, end);
            }
            p = end;
        }
        return null;
    }
}
