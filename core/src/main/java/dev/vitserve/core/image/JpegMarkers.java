package dev.vitserve.core.image;

import java.util.Arrays;

/**
 * Reads a JPEG's header segments the way Pillow 9's parser does (bytes between segments skipped),
 * without decoding anything: the EXIF data, whether the data after the first scan has an EOI marker,
 * and the number of scans.
 */
final class JpegMarkers {

    private static final int SOS = 0xDA;
    private static final int EOI = 0xD9;
    private static final int APP1 = 0xE1;
    private static final byte[] EXIF = {'E', 'x', 'i', 'f', 0, 0};

    /** Sees the header segments one by one. */
    private interface SegmentVisitor {
        /** Called with a segment's marker and its payload {@code jpeg[start, end)}; true to stop the walk. */
        boolean visit(int marker, int start, int end);
    }

    private JpegMarkers() {
    }

    /**
     * Whether an EOI marker follows the start of the first scan: without one, decoding can only end
     * by running out of data. Used, once libjpeg has warned about the data, to tell a file cut short
     * (which Pillow refuses as truncated, and libjpeg would complete with grey) from damaged data
     * that libjpeg decodes through as Pillow does. Checked on damaged copies of the fixture JPEGs,
     * this agrees with Pillow more often than modelling how libjpeg skips through damaged segments.
     */
    static boolean hasEndOfImage(byte[] jpeg) {
        int from = Math.max(2, walk(jpeg, (marker, start, end) -> false));
        for (int i = from; i + 1 < jpeg.length; i++) {
            if ((jpeg[i] & 0xFF) == 0xFF && (jpeg[i + 1] & 0xFF) == EOI) {
                return true;
            }
        }
        return false;
    }

    /**
     * Refuses a JPEG of more than {@code maxScans} scans before any is decoded. Each scan of a
     * progressive JPEG is a pass over its coefficients, whatever its size in bytes: a scan of a few
     * bytes repeated a thousand times makes a 200 KB file cost libjpeg-turbo 2.1 (which has no scan
     * limit) half a minute. Counts the SOS markers up to EOI, stepping over segments by their
     * lengths and through entropy-coded data byte by byte, as libjpeg reads them.
     */
    static void checkScanCount(byte[] jpeg, int maxScans) throws ImageDecodeException {
        int n = jpeg.length;
        int p = 2;
        int scans = 0;
        while (p + 1 < n) {
            int marker = jpeg[p + 1] & 0xFF;
            if ((jpeg[p] & 0xFF) != 0xFF || marker == 0xFF) {
                p++; // entropy-coded data, junk or fill bytes
                continue;
            }
            if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {
                p += 2; // a stuffed 0xFF, or a marker without a length (RSTn)
                continue;
            }
            if (marker == EOI || p + 4 > n) {
                return;
            }
            if (marker == SOS && ++scans > maxScans) {
                throw new ImageDecodeException(ImageDecodeException.Reason.TOO_COMPLEX, "the JPEG has more than "
                        + maxScans + " scans, this server's limit (a usual progressive JPEG has about 10)");
            }
            p += 2 + Math.max(2, ((jpeg[p + 2] & 0xFF) << 8) | (jpeg[p + 3] & 0xFF));
        }
    }

    /**
     * The EXIF data (a TIFF structure, after the "Exif\0\0" preamble) of the first APP1 segment
     * starting "Exif\0" before the first scan: the one Pillow 9 takes the orientation from. Null
     * when there is none, when that segment's preamble is not "Exif\0\0" (Pillow then fails to read
     * it) or the segments are damaged.
     */
    static byte[] firstExifPayload(byte[] jpeg) {
        int[] found = {-1, -1};
        walk(jpeg, (marker, start, end) -> {
            if (marker == APP1 && end - start >= EXIF.length - 1
                    && Arrays.equals(jpeg, start, start + EXIF.length - 1, EXIF, 0, EXIF.length - 1)) {
                found[0] = start;
                found[1] = end;
                return true;
            }
            return false;
        });
        int start = found[0];
        if (start < 0 || found[1] - start < EXIF.length || jpeg[start + EXIF.length - 1] != 0) {
            return null;
        }
        return Arrays.copyOfRange(jpeg, start + EXIF.length, found[1]);
    }

    /**
     * The pixels the first frame header (SOF0 to SOF15) announces, height times width, or 0 when
     * there is none before the first scan.
     */
    static long announcedPixels(byte[] jpeg) {
        long[] pixels = {0};
        walk(jpeg, (marker, start, end) -> {
            boolean frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
            if (frame && end - start >= 5) {
                pixels[0] = (long) (((jpeg[start + 1] & 0xFF) << 8) | (jpeg[start + 2] & 0xFF))
                        * (((jpeg[start + 3] & 0xFF) << 8) | (jpeg[start + 4] & 0xFF));
            }
            return frame;
        });
        return pixels[0];
    }

    /**
     * Walks the segments from after SOI up to the first scan, skipping junk and fill bytes between
     * them; returns the index of the SOS marker, or -1 when the walk stopped before one (a visitor
     * asked, EOI, damaged lengths, end of data).
     */
    private static int walk(byte[] jpeg, SegmentVisitor visitor) {
        int n = jpeg.length;
        int p = 2;
        while (p + 2 <= n) {
            if ((jpeg[p] & 0xFF) != 0xFF) {
                p++; // junk between segments
                continue;
            }
            int marker = jpeg[p + 1] & 0xFF;
            if (marker == 0xFF || marker == 0x00) {
                p++; // a fill byte, or a stuffed 0xFF out of place
                continue;
            }
            if (marker == SOS) {
                return p;
            }
            if (marker == EOI) {
                return -1;
            }
            if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {
                p += 2; // markers without a length
                continue;
            }
            if (p + 4 > n) {
                return -1;
            }
            int end = p + 2 + (((jpeg[p + 2] & 0xFF) << 8) | (jpeg[p + 3] & 0xFF));
            if (end < p + 4 || end > n) {
                return -1;
            }
            if (visitor.visit(marker, p + 4, end)) {
                return -1;
            }
            p = end;
        }
        return -1;
    }
}
